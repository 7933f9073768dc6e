using Camelid.Formats.Gguf;
using Camelid.Model;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Camelid.Training.Export;
using Camelid.Training.Model;
using Xunit.Abstractions;
using static Camelid.Training.Tests.Export.ExportTestModels;

namespace Camelid.Training.Tests.Export;

/// <summary>
/// Real models (llama2.c's stories260K as GGUF and as .bin, a 32000-token LLaMA-2 vocabulary model in F16) taken
/// apart with <see cref="LlamaParameters.FromModel"/>, exported, loaded back: the logits and the tokenizer must be
/// the original's.
/// </summary>
public sealed class RealModelExportTests(ITestOutputHelper output) : IDisposable
{
    const string Gguf = "models/stories260K.gguf", Bin = "models/stories260K.bin", TokBin = "models/tok512.bin", TokModel = "models/tok512.model";
    const string TinyLlama2 = "models/llama-2-tiny-random.gguf", Gpt2Vocab = "tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf";

    /// <summary>Plain English, runs of spaces, and text only byte fallback can encode in a 512-token vocabulary.</summary>
    static readonly string[] Texts =
    [
        "Once upon a time, there was a little girl named Lily.", "  Two  spaces\tand a tab.\n", "Ünïcödé straße", "日本語のテキスト", "a llama 🦙!", "",
    ];

    const string Prompt = "Once upon a time, a tiny llama named Ünï ran to the park. 🦙";

    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Exports the model in <paramref name="format"/> and returns the exported model's path.</summary>
    string Export(LlamaModel source, string format, GgmlType type, LlamaParameters? parameters = null)
    {
        parameters ??= LlamaParameters.FromModel(source);
        var meta = new ExportMetadata { Name = "exported", ChatTemplate = source.ChatTemplateSource };
        string path = Path.Combine(_dir, $"{format}-{type}" + (format == "gguf" ? ".gguf" : ""));
        if (format == "gguf")
            ModelExporter.WriteGguf(parameters, source.RequireTokenizer(), path, type, meta);
        else
            ModelExporter.WriteHuggingFace(parameters, source.RequireTokenizer(), path, type, meta);
        return path;
    }

    static LlamaModel Open(string source) => source switch
    {
        "gguf" => LlamaModel.Load(TestPaths.Shared(Gguf), new ModelLoadOptions { Threads = 1 }),
        "bin+tok512.bin" => LlamaModel.Load(TestPaths.Shared(Bin), new ModelLoadOptions { Threads = 1, TokenizerPath = TestPaths.Shared(TokBin) }),
        "bin+tok512.model" => LlamaModel.Load(TestPaths.Shared(Bin), new ModelLoadOptions { Threads = 1, TokenizerPath = TestPaths.Shared(TokModel) }),
        _ => throw new ArgumentException(source),
    };

    void AssertSameTokenizer(Camelid.Tokenization.Tokenizer expected, Camelid.Tokenization.Tokenizer actual)
    {
        Assert.Equal(expected.VocabSize, actual.VocabSize);
        Assert.Equal((expected.BosId, expected.EosId), (actual.BosId, actual.EosId));
        foreach (var text in Texts)
        {
            var ids = expected.Encode(text, addBos: true);
            Assert.Equal(ids, actual.Encode(text, addBos: true));
            Assert.Equal(expected.Decode(ids), actual.Decode(ids));
        }
    }

    [SharedDataTheory(Gguf, Bin, TokBin, TokModel)]
    [InlineData("gguf", "gguf")]
    [InlineData("gguf", "hf")]
    [InlineData("bin+tok512.bin", "gguf")]
    [InlineData("bin+tok512.bin", "hf")]
    [InlineData("bin+tok512.model", "gguf")]
    [InlineData("bin+tok512.model", "hf")]
    public void F32_export_reloads_to_the_original_logits_and_tokenizer(string source, string format)
    {
        using var original = Open(source);
        string path = Export(original, format, GgmlType.F32);
        using var exported = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });

        Assert.Equal(original.Config, exported.Config);
        AssertSameTokenizer(original.RequireTokenizer(), exported.RequireTokenizer());

        var tokens = original.RequireTokenizer().Encode(Prompt, addBos: true);
        var expected = original.Forward(tokens, original.NewKvCache(tokens.Length), allLogits: true);
        var actual = exported.Forward(tokens, exported.NewKvCache(tokens.Length), allLogits: true);
        double diff = MaxDifference(actual, expected);
        output.WriteLine($"{source} -> {format} F32, {tokens.Length} tokens: max |logit diff| = {diff:E2}");
        Assert.True(diff <= 1e-5, $"max |diff| {diff}");
    }

    [SharedDataTheory(Bin, TokModel)]
    [InlineData("gguf")]
    [InlineData("hf")]
    public void Llama2c_shared_classifier_exported_tied_writes_no_head_and_keeps_the_logits(string format)
    {
        using var original = Open("bin+tok512.model");
        var p = LlamaParameters.FromModel(original);
        Assert.Equal(p.TokenEmbedding.Value, p.OutputHead.Value); // llama2.c's positive vocab_size: one shared matrix
        var tied = new LlamaParameters { Config = p.Config, TokenEmbedding = p.TokenEmbedding, Layers = p.Layers, OutputNorm = p.OutputNorm };
        using var exported = LlamaModel.Load(Export(original, format, GgmlType.F32, tied), new ModelLoadOptions { Threads = 1 });

        Assert.DoesNotContain(exported.Tensors, t => t.Name is "output.weight" or "lm_head.weight");
        Assert.Same(exported.Weights.TokenEmbedding, exported.Weights.Output.Tensor);
        var tokens = original.RequireTokenizer().Encode(Prompt, addBos: true);
        Assert.Equal(original.Forward(tokens, original.NewKvCache(tokens.Length), allLogits: true),
            exported.Forward(tokens, exported.NewKvCache(tokens.Length), allLogits: true));
    }

    [SharedDataTheory(Gguf)]
    [InlineData("gguf", GgmlType.F16, 0.05)]
    [InlineData("gguf", GgmlType.BF16, 0.4)]
    [InlineData("hf", GgmlType.F16, 0.05)]
    [InlineData("hf", GgmlType.BF16, 0.4)]
    public void Half_precision_export_stays_close_to_the_original_logits(string format, GgmlType type, double tolerance)
    {
        using var original = Open("gguf");
        using var exported = LlamaModel.Load(Export(original, format, type), new ModelLoadOptions { Threads = 1 });
        var tokens = original.RequireTokenizer().Encode(Prompt, addBos: true);
        var expected = original.Forward(tokens, original.NewKvCache(tokens.Length), allLogits: true);
        var actual = exported.Forward(tokens, exported.NewKvCache(tokens.Length), allLogits: true);
        double diff = MaxDifference(actual, expected), range = expected.Max() - expected.Min();
        int vocab = original.Config.VocabSize, sameArgmax = 0;
        for (int t = 0; t < tokens.Length; t++)
            sameArgmax += ArgMax(actual.AsSpan(t * vocab, vocab)) == ArgMax(expected.AsSpan(t * vocab, vocab)) ? 1 : 0;
        output.WriteLine($"{format} {type}: max |logit diff| = {diff:E2} (logits span {range:F1}); same argmax at {sameArgmax}/{tokens.Length} positions");
        Assert.True(diff < tolerance, $"max |diff| {diff}");
    }

    static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
            if (x[i] > x[best])
                best = i;
        return best;
    }

    [SharedDataFact(TinyLlama2)]
    public void F16_model_exported_as_f16_keeps_every_weight_bit_and_the_llama2_tokenizer()
    {
        using var original = LlamaModel.Load(TestPaths.Shared(TinyLlama2), new ModelLoadOptions { Threads = 1 });
        string gguf = Export(original, "gguf", GgmlType.F16), hf = Export(original, "hf", GgmlType.F16);

        // f16 -> f32 -> f16 is exact, so every tensor comes back with the original bytes.
        using (var written = GgufFile.Open(gguf))
            foreach (var tensor in original.Tensors.Where(t => written.Find(t.Name) != null))
            {
                var copy = written.Find(tensor.Name)!;
                Assert.Equal(tensor.Shape, copy.Shape);
                Assert.True(tensor.Type == copy.Type || tensor.Shape.Length == 1, $"{tensor.Name}: {copy.Type}, was {tensor.Type}");
                Assert.True(tensor.ToFloats().AsSpan().SequenceEqual(copy.ToFloats()), $"{tensor.Name} differs");
            }

        var tokens = original.RequireTokenizer().Encode(Prompt, addBos: true);
        var expected = original.Forward(tokens, original.NewKvCache(tokens.Length), allLogits: true);
        foreach (var path in new[] { gguf, hf })
        {
            using var exported = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });
            AssertSameTokenizer(original.RequireTokenizer(), exported.RequireTokenizer());
            double diff = MaxDifference(exported.Forward(tokens, exported.NewKvCache(tokens.Length), allLogits: true), expected);
            output.WriteLine($"{Path.GetFileName(path)}: max |logit diff| = {diff:E2}");
            Assert.True(diff <= 1e-5, $"{path}: max |diff| {diff}");
        }
    }

    [SharedDataFact(Gpt2Vocab, Gpt2Vocab + ".inp")]
    public void Byte_level_vocabulary_model_exports_with_merges_and_tokenizer_json()
    {
        var tokenizer = LlamaModel.LoadTokenizer(TestPaths.Shared(Gpt2Vocab));
        var p = Random(SmallConfig with { VocabSize = tokenizer.VocabSize }, tiedOutput: true);
        string gguf = Path.Combine(_dir, "gpt2.gguf"), hf = Path.Combine(_dir, "gpt2-hf");
        ModelExporter.WriteGguf(p, tokenizer, gguf);
        ModelExporter.WriteHuggingFace(p, tokenizer, hf, GgmlType.F32);
        Assert.True(File.Exists(Path.Combine(hf, "tokenizer.json")));
        Assert.False(File.Exists(Path.Combine(hf, "tokenizer.model")));

        var inputs = File.ReadAllText(TestPaths.Shared(Gpt2Vocab + ".inp")).Split("\n__ggml_vocab_test__\n").SkipLast(1).ToList();
        var tokens = tokenizer.Encode("Hello world, it's a llama: 🦙 ünï 日本", addBos: false);
        float[]? first = null;
        foreach (var path in new[] { gguf, hf })
        {
            using var exported = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });
            var reread = exported.RequireTokenizer();
            Assert.Equal(tokenizer.Vocabulary.Merges, reread.Vocabulary.Merges);
            Assert.Equal((tokenizer.BosId, tokenizer.EosId, tokenizer.AddBosByDefault), (reread.BosId, reread.EosId, reread.AddBosByDefault));
            foreach (var text in inputs)
                Assert.Equal(tokenizer.Encode(text, addBos: false), reread.Encode(text, addBos: false));
            var logits = exported.Forward(tokens, exported.NewKvCache(tokens.Length), allLogits: true);
            first ??= logits;
            Assert.Equal(first, logits);
        }
        Assert.True(MaxDifference(first!, NaiveLlama.Logits(p, tokens)) < 1e-4);
    }
}
