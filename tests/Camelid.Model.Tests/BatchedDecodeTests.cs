using Camelid.Model.Conversion;
using Camelid.Model.Tests.Conversion;
using Camelid.Tensors.Kernels;

namespace Camelid.Model.Tests;

/// <summary>
/// Continuous batching runs the decode steps of unrelated sequences as one forward pass; each sequence must
/// get exactly the logits it gets alone, or a request's output would depend on what else is being served.
/// </summary>
public class BatchedDecodeTests(ConversionTestModels models) : IClassFixture<ConversionTestModels>
{
    [Theory]
    [InlineData(LlamaFileType.AllF32)]
    [InlineData(LlamaFileType.MostlyF16)]
    [InlineData(LlamaFileType.MostlyQ8_0)]
    [InlineData(LlamaFileType.MostlyQ4_0)]
    [InlineData(LlamaFileType.MostlyQ4_K_M)]
    public void A_batched_decode_step_gives_each_sequence_its_logits_alone_bit_for_bit(LlamaFileType type)
    {
        string path = models.PathFor($"batched-{type}.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, type, seed: 3, path);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 2 });
        int vocab = model.Config.VocabSize;
        // Prompts of different lengths: sequences sit at different positions; 6 of them exceed the
        // small-batch limit under which MatMul would pick the decode kernels anyway.
        int[][] prompts = Enumerable.Range(0, 6).Select(i => Enumerable.Range(1, 3 + 5 * i).Select(t => (t * 37 + i) % vocab).ToArray()).ToArray();
        var alone = prompts.Select(_ => model.NewKvCache(64)).ToArray();
        var batched = prompts.Select(_ => model.NewKvCache(64)).ToArray();
        var next = new int[prompts.Length];
        var logits = new float[vocab];
        for (int s = 0; s < prompts.Length; s++)
        {
            model.Transformer.Forward(prompts[s], alone[s], logits, allLogits: false);
            model.Transformer.Forward(prompts[s], batched[s], logits, allLogits: false);
            next[s] = Ops.Argmax(logits);
        }

        var batchLogits = new float[prompts.Length * vocab];
        for (int step = 0; step < 5; step++)
        {
            model.Transformer.ForwardDecode(next, batched, batchLogits);
            for (int s = 0; s < prompts.Length; s++)
            {
                model.Transformer.Forward([next[s]], alone[s], logits, allLogits: false);
                Assert.True(logits.AsSpan().SequenceEqual(batchLogits.AsSpan(s * vocab, vocab)),
                    $"{type}: sequence {s} at step {step} differs from its decode alone");
                Assert.Equal(alone[s].Length, batched[s].Length);
                next[s] = Ops.Argmax(logits);
            }
        }
    }

    [Fact]
    public void A_decode_step_needs_one_cache_per_token_and_room_in_each()
    {
        string path = models.PathFor("batched-checks.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.AllF32, seed: 3, path);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });
        var logits = new float[2 * model.Config.VocabSize];
        var full = model.NewKvCache(2);
        model.Transformer.Forward([1, 2], full, logits, allLogits: false);
        Assert.Throws<ArgumentException>(() => model.Transformer.ForwardDecode([1, 2], [model.NewKvCache(8)], logits));
        var overflow = Assert.Throws<ContextOverflowException>(() => model.Transformer.ForwardDecode([1, 2], [model.NewKvCache(8), full], logits));
        Assert.Equal(3, overflow.Needed);
    }
}
