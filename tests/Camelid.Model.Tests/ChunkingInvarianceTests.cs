using System.Runtime.Intrinsics.X86;
using Camelid.Model.Conversion;
using Camelid.Model.Tests.Conversion;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Xunit.Abstractions;

namespace Camelid.Model.Tests;

/// <summary>
/// Where <see cref="Transformer.PositionsIndependentOfChunking"/> holds, the server reuses any cached prefix (an
/// earlier turn with its answer, another sequence's system prompt) as if it had been computed afresh: a prompt's
/// keys, values and logits must then be the same bit for bit however it is split into calls.
/// </summary>
public class ChunkingInvarianceTests(ConversionTestModels models, ITestOutputHelper output) : IClassFixture<ConversionTestModels>
{
    /// <summary>AVX2 without AVX-512: prefill runs the decode kernels and the per-row attention.</summary>
    static bool Avx2Only => Avx2.IsSupported && Fma.IsSupported && !Avx512F.IsSupported;

    LlamaModel Synthesized(LlamaFileType type)
    {
        string path = models.PathFor($"chunking-{type}.gguf");
        if (!File.Exists(path))
            ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, type, seed: 5, path);
        return LlamaModel.Load(path, new ModelLoadOptions { Threads = 2 });
    }

    [Theory]
    [InlineData(LlamaFileType.MostlyQ4_0)]
    [InlineData(LlamaFileType.MostlyQ8_0)]
    [InlineData(LlamaFileType.MostlyQ4_K_M)]
    public void A_prompt_split_any_way_gives_the_same_cache_and_logits_bit_for_bit(LlamaFileType type)
    {
        using var model = Synthesized(type);
        var transformer = model.Transformer;
        if (Avx2Only)
            Assert.True(transformer.PositionsIndependentOfChunking, $"{type} on an AVX2-only CPU should not depend on chunking");
        if (!transformer.PositionsIndependentOfChunking)
        {
            output.WriteLine("positions depend on chunking on this CPU (prefill GEMM or blocked attention): nothing to check");
            return;
        }
        int vocab = model.Config.VocabSize;
        var prompt = Enumerable.Range(0, 37).Select(t => 1 + (t * 29 + 3) % (vocab - 1)).ToArray();

        var whole = model.NewKvCache(64);
        var wholeLogits = new float[vocab];
        transformer.Forward(prompt, whole, wholeLogits, allLogits: false);

        // Chunks of 5, 11 and 21 tokens (the attention's blocked threshold is 8), and one token at a time through the decode step.
        var split = model.NewKvCache(64);
        var splitLogits = new float[vocab];
        foreach (var (start, count) in new[] { (0, 5), (5, 11), (16, 21) })
            transformer.Forward(prompt.AsSpan(start, count), split, splitLogits, allLogits: false);
        var stepwise = model.NewKvCache(64);
        var stepLogits = new float[vocab];
        foreach (int token in prompt)
            transformer.ForwardDecode([token], [stepwise], stepLogits);

        Assert.True(wholeLogits.AsSpan().SequenceEqual(splitLogits), $"{type}: logits after chunks differ from one prefill");
        Assert.True(wholeLogits.AsSpan().SequenceEqual(stepLogits), $"{type}: logits after decode steps differ from one prefill");
        for (int layer = 0; layer < model.Config.Layers; layer++)
        {
            Assert.True(whole.Keys(layer, prompt.Length).SequenceEqual(split.Keys(layer, prompt.Length)), $"{type}: keys of layer {layer}");
            Assert.True(whole.Values(layer, prompt.Length).SequenceEqual(split.Values(layer, prompt.Length)), $"{type}: values of layer {layer}");
            Assert.True(whole.Keys(layer, prompt.Length).SequenceEqual(stepwise.Keys(layer, prompt.Length)), $"{type}: keys of layer {layer}, decode steps");
            Assert.True(whole.Values(layer, prompt.Length).SequenceEqual(stepwise.Values(layer, prompt.Length)), $"{type}: values of layer {layer}, decode steps");
        }
    }

    [Fact]
    public void Dense_weights_make_positions_depend_on_chunking_since_a_long_call_takes_the_gemm()
    {
        using var model = Synthesized(LlamaFileType.AllF32);
        Assert.False(model.Transformer.PositionsIndependentOfChunking);
        Assert.False(MatMul.TokensAlwaysIndependent(GgmlType.F16, 256));
    }

    [Fact]
    public void Copying_a_prefix_between_caches_takes_exactly_those_positions()
    {
        using var model = Synthesized(LlamaFileType.MostlyQ8_0);
        var prompt = Enumerable.Range(0, 12).Select(t => 1 + t * 7).ToArray();
        var source = model.NewKvCache(32);
        var logits = new float[model.Config.VocabSize];
        model.Transformer.Forward(prompt, source, logits, allLogits: false);

        var target = model.NewKvCache(16);
        target.CopyFrom(source, 4);
        target.CopyFrom(source, 9);
        Assert.Equal(9, target.Length);
        for (int layer = 0; layer < model.Config.Layers; layer++)
        {
            Assert.True(source.Keys(layer, 9).SequenceEqual(target.Keys(layer, 9)));
            Assert.True(source.Values(layer, 9).SequenceEqual(target.Values(layer, 9)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => target.CopyFrom(source, 8));  // behind its end
        Assert.Throws<ArgumentOutOfRangeException>(() => target.CopyFrom(source, 13)); // beyond the source
        Assert.Throws<ArgumentException>(() => target.CopyFrom(new KvCache(1, 32, model.Config.KvDim), 10));
    }
}
