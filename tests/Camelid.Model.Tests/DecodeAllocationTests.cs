using Camelid.Model.Conversion;
using Camelid.Tests;

namespace Camelid.Model.Tests;

/// <summary>Runs alone: it counts the allocations of every thread in the process.</summary>
[CollectionDefinition(nameof(ProcessWideMeasurements), DisableParallelization = true)]
public sealed class ProcessWideMeasurements;

/// <summary>The per-token path allocates nothing once warmed up: every decode step of a whole model, on every
/// thread of the pool, for the weight types of common model files.</summary>
[Collection(nameof(ProcessWideMeasurements))]
public class DecodeAllocationTests
{
    [Theory]
    [InlineData(LlamaFileType.MostlyQ4_0)]
    [InlineData(LlamaFileType.MostlyQ8_0)]
    [InlineData(LlamaFileType.MostlyQ4_K_M)]
    [InlineData(LlamaFileType.MostlyF16)]
    public void DecodeSteps_AllocateNothing_InSteadyState(LlamaFileType fileType)
    {
        using var models = new Conversion.ConversionTestModels();
        string path = models.PathFor($"alloc-{fileType}.gguf");
        ModelSynthesizer.Synthesize(Conversion.ConversionTestModels.KQuantFriendly, fileType, seed: 3, path);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 2 });
        var cache = model.NewKvCache(64);
        var logits = new float[model.Config.VocabSize];
        var token = new int[1];
        for (int i = 0; i < 8; i++) // warm-up: scratch buffers grow to their final size, code gets compiled
        {
            token[0] = i;
            model.Transformer.Forward(token, cache, logits, allLogits: false);
        }
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 16; i++)
        {
            token[0] = 10 + i;
            model.Transformer.Forward(token, cache, logits, allLogits: false);
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated == 0, $"{fileType}: 16 decode steps allocated {allocated} bytes");
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }
}
