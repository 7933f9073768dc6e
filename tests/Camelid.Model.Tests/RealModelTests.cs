using Camelid.Inference.Generation;
using Camelid.Inference.Sampling;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Model.Tests;

/// <summary>The real stories260K model must reproduce llama2.c's own greedy output byte for byte.</summary>
public class RealModelTests(ITestOutputHelper output)
{
    const string Bin = "models/stories260K.bin", Gguf = "models/stories260K.gguf", Tok = "models/tok512.bin", Expected = "models/stories260K.expected_t0_n200.txt";

    static async Task<string> Greedy200(LlamaModel model)
    {
        var tok = model.RequireTokenizer();
        var request = new GenerationRequest { PromptTokens = [tok.BosId], MaxTokens = 200, Sampling = SamplingOptions.Greedy };
        var (text, summary) = await new Generator(model).GenerateTextAsync(request, model.NewKvCache(256));
        Assert.Equal(200, summary.GeneratedTokens);
        return text;
    }

    [SharedDataFact(Bin, Tok, Expected)]
    public async Task Llama2c_checkpoint_reproduces_llama2c_greedy_output()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Bin), new ModelLoadOptions { TokenizerPath = TestPaths.Shared(Tok) });
        Assert.Equal(File.ReadAllText(TestPaths.Shared(Expected)), await Greedy200(model));
    }

    [SharedDataFact(Gguf, Expected)]
    public async Task Gguf_reproduces_llama2c_greedy_output()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Gguf));
        Assert.Equal(File.ReadAllText(TestPaths.Shared(Expected)), await Greedy200(model));
    }

    [SharedDataFact(Bin, Tok, Gguf)]
    public void Bin_and_gguf_give_identical_logits_and_prefill_equals_decode()
    {
        using var bin = LlamaModel.Load(TestPaths.Shared(Bin), new ModelLoadOptions { TokenizerPath = TestPaths.Shared(Tok) });
        using var gguf = LlamaModel.Load(TestPaths.Shared(Gguf), new ModelLoadOptions { Threads = 1 });
        int[] tokens = bin.RequireTokenizer().Encode("Once upon a time, a tiny llama ran to the park.", addBos: true);
        var fromBin = bin.Forward(tokens, bin.NewKvCache(64), allLogits: true);
        var fromGguf = gguf.Forward(tokens, gguf.NewKvCache(64), allLogits: true);
        Assert.Equal(fromBin, fromGguf);

        // One token at a time through the cache gives the same logits as the batched prompt pass.
        var cache = gguf.NewKvCache(64);
        int vocab = gguf.Config.VocabSize;
        double maxDiff = 0;
        for (int t = 0; t < tokens.Length; t++)
        {
            var step = gguf.Forward(tokens.AsSpan(t, 1), cache, allLogits: false);
            for (int i = 0; i < vocab; i++)
                maxDiff = Math.Max(maxDiff, Math.Abs(step[i] - fromGguf[t * vocab + i]));
        }
        output.WriteLine($"prefill vs decode: max |diff| = {maxDiff:E2} over {tokens.Length} positions");
        Assert.True(maxDiff < 1e-4, $"prefill and decode differ by {maxDiff}");
    }

    [SharedDataFact("models/llama-2-tiny-random.gguf")]
    public void F16_model_with_the_full_llama2_vocabulary_loads_and_runs()
    {
        using var model = LlamaModel.Load(TestPaths.Shared("models/llama-2-tiny-random.gguf"));
        Assert.Equal(32000, model.Config.VocabSize);
        Assert.Equal(32000, model.RequireTokenizer().VocabSize);
        var tokens = model.RequireTokenizer().Encode("Hello world", addBos: true);
        Assert.Equal([1, 15043, 3186], tokens);
        var logits = model.Forward(tokens, model.NewKvCache(16), allLogits: true);
        Assert.All(logits, l => Assert.True(float.IsFinite(l)));
    }
}
