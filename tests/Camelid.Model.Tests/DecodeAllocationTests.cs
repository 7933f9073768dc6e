using Camelid.Model.Conversion;
using Camelid.Tests;

namespace Camelid.Model.Tests;

/// <summary>The per-token path allocates nothing once warmed up: whole decode steps of a model, for the weight
/// types of common model files. Counted on the calling thread (the test host's own threads allocate at any
/// time): with 1 thread it runs every kernel itself; with 2 it also runs the pool's hand-out of work.</summary>
public class DecodeAllocationTests
{
    [Theory]
    [InlineData(LlamaFileType.MostlyQ4_0, 1)]
    [InlineData(LlamaFileType.MostlyQ8_0, 1)]
    [InlineData(LlamaFileType.MostlyQ4_K_M, 1)]
    [InlineData(LlamaFileType.MostlyF16, 1)]
    [InlineData(LlamaFileType.MostlyQ4_0, 2)]
    public void DecodeSteps_AllocateNothing_InSteadyState(LlamaFileType fileType, int threads)
    {
        using var models = new Conversion.ConversionTestModels();
        string path = models.PathFor($"alloc-{fileType}.gguf");
        ModelSynthesizer.Synthesize(Conversion.ConversionTestModels.KQuantFriendly, fileType, seed: 3, path);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = threads });
        var cache = model.NewKvCache(64);
        var logits = new float[model.Config.VocabSize];
        var token = new int[1];
        for (int i = 0; i < 8; i++) // warm-up: scratch buffers grow to their final size, code gets compiled
        {
            token[0] = i;
            model.Transformer.Forward(token, cache, logits, allLogits: false);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 16; i++)
        {
            token[0] = 10 + i;
            model.Transformer.Forward(token, cache, logits, allLogits: false);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{fileType}, {threads} thread(s): 16 decode steps allocated {allocated} bytes");
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }
}
