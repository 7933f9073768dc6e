using System.Text.Json;
using Camelid.Formats.Gguf;
using Camelid.Formats.Safetensors;
using Camelid.Model;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Camelid.Training.Export;
using Xunit.Abstractions;
using static Camelid.Training.Tests.Export.ExportTestModels;

namespace Camelid.Training.Tests.Export;

/// <summary>
/// Random small models written by <see cref="ModelExporter"/>, loaded back by <see cref="LlamaModel.Load"/> and run by
/// the inference engine, against <see cref="NaiveLlama"/> over the in-memory parameters. Needs no shared data.
/// </summary>
public sealed class SyntheticExportTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The engine computes in f32 and the oracle in f64; logits are O(1).</summary>
    const double F32Tolerance = 1e-4;

    readonly string _dir = TestPaths.NewTempDir();
    readonly Camelid.Tokenization.Tokenizer _tokenizer = SyntheticTokenizer(SmallConfig.VocabSize);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    int[] Prompt() => _tokenizer.Encode("the little dog ran to the park and played with the ball", addBos: true);

    string At(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Gguf_f32_reloads_with_the_same_config_tokenizer_and_logits()
    {
        var p = Random(SmallConfig, tiedOutput: false);
        var result = ModelExporter.WriteGguf(p, _tokenizer, At("model.gguf"), GgmlType.F32, new ExportMetadata { Name = "tiny-test", ChatTemplate = "{{ bos_token }}" });
        Assert.Equal([At("model.gguf")], result.Files);
        Assert.False(File.Exists(At("model.gguf.partial")));

        using (var model = LlamaModel.Load(At("model.gguf"), new ModelLoadOptions { Threads = 1 }))
        {
            Assert.Equal(SmallConfig, model.Config);
            Assert.Equal("tiny-test", model.Name);
            Assert.Equal("{{ bos_token }}", model.ChatTemplateSource);
            var tokenizer = model.RequireTokenizer();
            Assert.Equal(_tokenizer.Vocabulary.Tokens, tokenizer.Vocabulary.Tokens);
            Assert.Equal(Prompt(), tokenizer.Encode("the little dog ran to the park and played with the ball", addBos: true));
        }
        double diff = MaxDifference(Logits(At("model.gguf"), Prompt()), NaiveLlama.Logits(p, Prompt()));
        output.WriteLine($"GGUF F32 vs naive f64: max |diff| = {diff:E2}");
        Assert.True(diff < F32Tolerance, $"max |diff| {diff}");
    }

    [Fact]
    public void HuggingFace_f32_reloads_to_the_naive_logits_and_the_qk_permutation_is_what_makes_them_agree()
    {
        var p = Random(SmallConfig, tiedOutput: false);
        string folder = At("hf");
        ModelExporter.WriteHuggingFace(p, _tokenizer, folder, GgmlType.F32);
        Assert.False(Directory.Exists(folder + ".partial"));
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.model", "tokenizer_config.json"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var logits = Logits(folder, Prompt());
        double diff = MaxDifference(logits, NaiveLlama.Logits(p, Prompt()));
        // Had the rows been written in Meta's order, the loader's unpermutation would scramble them like this:
        var scrambled = WithQueryKeyRows(p, (rows, heads, cols) => Unpermute(rows, heads, cols));
        double wrong = MaxDifference(logits, NaiveLlama.Logits(scrambled, Prompt()));
        output.WriteLine($"HF F32 vs naive f64: max |diff| = {diff:E2}; against a model with unpermuted Q/K rows: {wrong:E2}");
        Assert.True(diff < F32Tolerance, $"max |diff| {diff}");
        Assert.True(wrong > 1000 * F32Tolerance, $"a wrong Q/K order changes the logits by only {wrong}");

        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "config.json")));
        var c = config.RootElement;
        Assert.Equal("llama", c.GetProperty("model_type").GetString());
        Assert.Equal("LlamaForCausalLM", c.GetProperty("architectures")[0].GetString());
        Assert.Equal("float32", c.GetProperty("torch_dtype").GetString());
        Assert.False(c.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal(1e-5, c.GetProperty("rms_norm_eps").GetDouble());
        using var weights = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors"));
        Assert.NotNull(weights.Tensors.FirstOrDefault(t => t.Name == "lm_head.weight"));
    }

    /// <summary>HfModelLoader.UnpermuteRotaryRows on f32 rows: Meta row 2i+r of a head takes HF row r·hs/2+i.</summary>
    static float[] Unpermute(float[] hf, int heads, int cols)
    {
        int headSize = hf.Length / cols / heads, half = headSize / 2;
        var meta = new float[hf.Length];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int r = 0; r < 2; r++)
                    Array.Copy(hf, (h * headSize + r * half + i) * cols, meta, (h * headSize + 2 * i + r) * cols, cols);
        return meta;
    }

    [Fact]
    public void Permuting_to_rotate_half_order_is_the_inverse_of_the_loader_unpermutation()
    {
        var rows = Enumerable.Range(0, 4 * 8 * 3).Select(i => (float)i).ToArray(); // 4 heads of size 8, 3 columns
        Assert.Equal(rows, Unpermute(HuggingFaceExport.ToRotateHalfRows(rows, 4, 3), 4, 3));
        // Head 0 in HF order holds the even Meta rows (first halves of the pairs), then the odd ones.
        var hf = HuggingFaceExport.ToRotateHalfRows(rows, 4, 3);
        Assert.Equal([0, 2, 4, 6, 1, 3, 5, 7], Enumerable.Range(0, 8).Select(r => (int)hf[r * 3] / 3));
    }

    [Fact]
    public void Tied_head_writes_no_output_tensor_and_reloads_tied()
    {
        var p = Random(SmallConfig, tiedOutput: true);
        ModelExporter.WriteGguf(p, _tokenizer, At("tied.gguf"));
        ModelExporter.WriteHuggingFace(p, _tokenizer, At("tied-hf"));

        using (var gguf = GgufFile.Open(At("tied.gguf")))
            Assert.Null(gguf.Find("output.weight"));
        using (var weights = SafetensorsFile.Open(At("tied-hf/model.safetensors")))
            Assert.DoesNotContain(weights.Tensors, t => t.Name == "lm_head.weight");
        using (var config = JsonDocument.Parse(File.ReadAllBytes(At("tied-hf/config.json"))))
            Assert.True(config.RootElement.GetProperty("tie_word_embeddings").GetBoolean());

        var expected = NaiveLlama.Logits(p, Prompt());
        foreach (var path in new[] { At("tied.gguf"), At("tied-hf") })
        {
            double diff = MaxDifference(Logits(path, Prompt()), expected);
            output.WriteLine($"{Path.GetFileName(path)}: max |diff| = {diff:E2}");
            Assert.True(diff < F32Tolerance, $"{path}: max |diff| {diff}");
        }
    }

    [Theory]
    [InlineData("gguf", GgmlType.F16, 2e-3)]
    [InlineData("gguf", GgmlType.BF16, 2e-2)]
    [InlineData("hf", GgmlType.F16, 2e-3)]
    [InlineData("hf", GgmlType.BF16, 2e-2)]
    public void Half_precision_exports_stay_within_their_rounding_error(string format, GgmlType type, double tolerance)
    {
        var p = Random(SmallConfig, tiedOutput: false);
        string path = format == "gguf" ? At("half.gguf") : At("half-hf");
        if (format == "gguf")
        {
            ModelExporter.WriteGguf(p, _tokenizer, path, type);
            using var gguf = GgufFile.Open(path);
            Assert.All(gguf.Tensors, t => Assert.Equal(t.Shape.Length == 1 ? GgmlType.F32 : type, t.Type));
            Assert.Equal(type == GgmlType.F16 ? 1u : 32u, (uint)gguf.Metadata.GetInt32("general.file_type"));
        }
        else
        {
            ModelExporter.WriteHuggingFace(p, _tokenizer, path, type);
            using var weights = SafetensorsFile.Open(Path.Combine(path, "model.safetensors"));
            Assert.All(weights.Tensors, t => Assert.Equal(type, t.Type));
        }
        double diff = MaxDifference(Logits(path, Prompt()), NaiveLlama.Logits(p, Prompt()));
        output.WriteLine($"{format} {type} vs naive f64: max |diff| = {diff:E2} (tolerance {tolerance:E0})");
        Assert.True(diff < tolerance, $"max |diff| {diff}");
    }

    [Fact]
    public void Linear_rope_scaling_survives_both_formats()
    {
        var p = Random(SmallConfig with { RopeScaling = new RopeScaling.Linear(2.0) }, tiedOutput: false);
        ModelExporter.WriteGguf(p, _tokenizer, At("linear.gguf"));
        ModelExporter.WriteHuggingFace(p, _tokenizer, At("linear-hf"));
        var expected = NaiveLlama.Logits(p, Prompt());
        foreach (var path in new[] { At("linear.gguf"), At("linear-hf") })
        {
            using (var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 }))
                Assert.Equal(new RopeScaling.Linear(2.0), model.Config.RopeScaling);
            double diff = MaxDifference(Logits(path, Prompt()), expected);
            output.WriteLine($"{Path.GetFileName(path)}: max |diff| = {diff:E2}");
            Assert.True(diff < F32Tolerance, $"{path}: max |diff| {diff}");
        }
    }

    [Fact]
    public void Llama3_rope_scaling_becomes_rope_freqs_in_gguf_and_stays_llama3_in_config_json()
    {
        var scaling = new RopeScaling.Llama3(Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContextLength: 64);
        var p = Random(SmallConfig with { RopeScaling = scaling }, tiedOutput: false);
        ModelExporter.WriteGguf(p, _tokenizer, At("llama3.gguf"));
        ModelExporter.WriteHuggingFace(p, _tokenizer, At("llama3-hf"));

        float[] fromGguf, fromHf;
        using (var model = LlamaModel.Load(At("llama3.gguf"), new ModelLoadOptions { Threads = 1 }))
        {
            Assert.IsType<RopeScaling.Divisors>(model.Config.RopeScaling);
            fromGguf = model.Forward(Prompt(), model.NewKvCache(Prompt().Length), allLogits: true);
        }
        using (var model = LlamaModel.Load(At("llama3-hf"), new ModelLoadOptions { Threads = 1 }))
        {
            Assert.Equal(scaling, model.Config.RopeScaling);
            fromHf = model.Forward(Prompt(), model.NewKvCache(Prompt().Length), allLogits: true);
        }
        double diff = MaxDifference(fromGguf, fromHf);
        output.WriteLine($"Llama-3 scaling, GGUF rope_freqs vs HF config: max |diff| = {diff:E2}");
        Assert.True(diff < 1e-5, $"max |diff| {diff}");
        double fromUnscaled = MaxDifference(fromHf, NaiveLlama.Logits(WithoutRopeScaling(p), Prompt()));
        Assert.True(fromUnscaled > 1000 * F32Tolerance, $"the scaling changed the logits by only {fromUnscaled}");
    }

    [Fact]
    public void Per_frequency_rope_divisors_are_refused_for_config_json_but_written_to_gguf()
    {
        var divisors = Enumerable.Range(0, SmallConfig.HeadSize / 2).Select(i => 1f + i).ToArray();
        var p = Random(SmallConfig with { RopeScaling = new RopeScaling.Divisors(divisors) }, tiedOutput: false);
        Assert.Contains("rope_freqs", Assert.Throws<ArgumentException>(() => ModelExporter.WriteHuggingFace(p, _tokenizer, At("divisors-hf"))).Message);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));

        ModelExporter.WriteGguf(p, _tokenizer, At("divisors.gguf"));
        using var model = LlamaModel.Load(At("divisors.gguf"), new ModelLoadOptions { Threads = 1 });
        Assert.Equal(divisors, Assert.IsType<RopeScaling.Divisors>(model.Config.RopeScaling).Values);
    }

    static Camelid.Training.Model.LlamaParameters WithoutRopeScaling(Camelid.Training.Model.LlamaParameters p) => new()
    {
        Config = p.Config with { RopeScaling = null },
        TokenEmbedding = p.TokenEmbedding,
        Layers = p.Layers,
        OutputNorm = p.OutputNorm,
        Output = p.Output,
    };

    [Fact]
    public void Large_models_are_sharded_with_an_index_and_read_back_identically()
    {
        var p = Random(SmallConfig, tiedOutput: false);
        ModelExporter.WriteHuggingFace(p, _tokenizer, At("single"), GgmlType.F32);
        var result = ModelExporter.WriteHuggingFace(p, _tokenizer, At("sharded"), GgmlType.F32, null, maxShardBytes: 60_000);

        var shards = result.Files.Select(Path.GetFileName).Where(f => f!.StartsWith("model-", StringComparison.Ordinal)).ToList();
        Assert.True(shards.Count > 2, $"{shards.Count} shards");
        Assert.Equal($"model-00001-of-{shards.Count:D5}.safetensors", shards[0]);
        Assert.False(File.Exists(At("sharded/model.safetensors")));
        using (var index = JsonDocument.Parse(File.ReadAllBytes(At("sharded/model.safetensors.index.json"))))
        {
            Assert.Equal(p.Count * 4, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            Assert.Equal(3 + 9 * SmallConfig.Layers, index.RootElement.GetProperty("weight_map").EnumerateObject().Count());
        }
        Assert.Equal(Logits(At("single"), Prompt()), Logits(At("sharded"), Prompt()));
    }

    [Fact]
    public void A_refused_export_leaves_the_existing_file_untouched()
    {
        File.WriteAllText(At("model.gguf"), "an earlier model");
        var p = Random(SmallConfig, tiedOutput: false);
        p.Layers[1].W2.Value[5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => ModelExporter.WriteGguf(p, _tokenizer, At("model.gguf")));
        Assert.Contains("blk.1.ffn_down.weight holds NaN", e.Message);
        Assert.Equal("an earlier model", File.ReadAllText(At("model.gguf")));
        Assert.False(File.Exists(At("model.gguf.partial")));

        p.Layers[1].W2.Value[5] = 70000f;
        Assert.Contains("beyond F16", Assert.Throws<ArgumentException>(() => ModelExporter.WriteGguf(p, _tokenizer, At("model.gguf"), GgmlType.F16)).Message);
        Assert.Throws<ArgumentException>(() => ModelExporter.WriteGguf(p, _tokenizer, At("model.gguf"), GgmlType.Q8_0));
        Assert.Throws<ArgumentException>(() => ModelExporter.WriteGguf(p, SyntheticTokenizer(300), At("model.gguf")));
    }

    [Fact]
    public void A_folder_export_that_fails_midway_leaves_no_folder_behind()
    {
        // A SentencePiece vocabulary without an unknown token cannot be a tokenizer.model; that is found after the weights are written.
        var v = _tokenizer.Vocabulary;
        var noUnknown = Camelid.Tokenization.Tokenizer.Create(v with
        {
            UnknownId = null,
            Types = [.. Enumerable.Range(0, v.Tokens.Count).Select(id => id == 0 ? Camelid.Tokenization.TokenType.Control : v.TypeOf(id))],
        });
        var p = Random(SmallConfig, tiedOutput: false);
        Assert.Throws<Camelid.Tokenization.TokenizerException>(() => ModelExporter.WriteHuggingFace(p, noUnknown, At("broken")));
        Assert.False(Directory.Exists(At("broken")));
        Assert.False(Directory.Exists(At("broken.partial")));
    }

    [Fact]
    public void An_earlier_export_is_replaced_but_a_folder_with_other_files_is_not()
    {
        var first = Random(SmallConfig, tiedOutput: false, seed: 1);
        var second = Random(SmallConfig, tiedOutput: false, seed: 2);
        ModelExporter.WriteHuggingFace(first, _tokenizer, At("out"));
        ModelExporter.WriteHuggingFace(second, _tokenizer, At("out"));
        Assert.True(MaxDifference(Logits(At("out"), Prompt()), NaiveLlama.Logits(second, Prompt())) < F32Tolerance);
        Assert.Single(Directory.GetDirectories(_dir));

        Directory.CreateDirectory(At("notes"));
        File.WriteAllText(At("notes/thesis.txt"), "keep me");
        var e = Assert.Throws<IOException>(() => ModelExporter.WriteHuggingFace(second, _tokenizer, At("notes")));
        Assert.Contains("thesis.txt", e.Message);
        Assert.Equal("keep me", File.ReadAllText(At("notes/thesis.txt")));
        Assert.False(Directory.Exists(At("notes.partial")));
    }
}
