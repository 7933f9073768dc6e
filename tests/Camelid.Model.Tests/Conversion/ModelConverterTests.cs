using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Formats.Llama2c;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Camelid.Model.Conversion;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Conversion;

public class ModelConverterTests(ConversionTestModels models, ITestOutputHelper output) : IClassFixture<ConversionTestModels>
{
    string Synth(string name, LlamaFileType type, ModelShape? shape = null, ulong seed = 7)
    {
        string path = models.PathFor(name);
        if (!File.Exists(path))
            ModelSynthesizer.Synthesize(shape ?? ConversionTestModels.Stories260K, type, seed, path);
        return path;
    }

    static void AssertSameTensors(string expectedGguf, string actualGguf)
    {
        using var expected = GgufFile.Open(expectedGguf);
        using var actual = GgufFile.Open(actualGguf);
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), actual.Tensors.Select(t => t.Name).Order());
        foreach (var t in expected.Tensors)
        {
            var other = actual.Find(t.Name)!;
            Assert.Equal(t.Type, other.Type);
            Assert.Equal(t.Shape, other.Shape);
            Assert.True(t.Bytes.SequenceEqual(other.Bytes), $"{t.Name} differs");
        }
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void Gguf_to_hf_to_gguf_keeps_every_weight_and_the_logits_exactly(string type)
    {
        var fileType = LlamaFileTypes.Parse(type);
        // Untied head and grouped-query attention: exercises output.weight and the Q/K permutation with kv heads.
        string gguf = Synth($"rt-{type}.gguf", fileType, ConversionTestModels.KQuantFriendly);
        string hf = models.PathFor($"rt-{type}-hf"), back = models.PathFor($"rt-{type}-back.gguf");
        ModelConverter.Convert(gguf, hf, ModelFormat.HuggingFace);
        ModelConverter.Convert(hf, back, ModelFormat.Gguf);

        AssertSameTensors(gguf, back);
        float diff = WeightFiles.MaxAbsDifference(WeightFiles.Logits(gguf), WeightFiles.Logits(hf));
        output.WriteLine($"{type}: max |logit difference| GGUF vs HF = {diff}");
        Assert.Equal(0f, diff);
        Assert.Equal(WeightFiles.Logits(gguf), WeightFiles.Logits(back));

        using var original = LlamaModel.Load(gguf);
        using var converted = LlamaModel.Load(hf);
        Assert.Equal(original.Tokenizer!.Encode("Once upon a time, a llama hummed.", addBos: true),
            converted.Tokenizer!.Encode("Once upon a time, a llama hummed.", addBos: true));
        Assert.Equal(type == "f32" ? "float32" : type == "f16" ? "float16" : "bfloat16",
            System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(hf, "config.json"))).RootElement.GetProperty("torch_dtype").GetString());
    }

    [Fact]
    public void Gguf_to_llama2c_to_gguf_keeps_the_logits_exactly_and_writes_the_tokenizer_beside()
    {
        string gguf = Synth("l2c-src.gguf", LlamaFileType.AllF32);
        string dir = models.PathFor("l2c");
        Directory.CreateDirectory(dir);
        string bin = Path.Combine(dir, "model.bin"), back = models.PathFor("l2c-back.gguf");
        var notes = new List<string>();
        ModelConverter.Convert(gguf, bin, ModelFormat.Llama2c, note: notes.Add);

        Assert.True(File.Exists(Path.Combine(dir, "tok512.bin")));
        using (var checkpoint = Llama2cCheckpoint.Open(bin))
        {
            Assert.Equal(0, checkpoint.Version);
            Assert.True(checkpoint.Header.SharedClassifier);
            Assert.Equal(4, checkpoint.Header.KvHeads);
        }
        ModelConverter.Convert(bin, back, ModelFormat.Gguf);
        AssertSameTensors(gguf, back);
        Assert.Equal(WeightFiles.Logits(gguf), WeightFiles.Logits(bin));
        using var original = LlamaModel.Load(gguf);
        using var fromBin = LlamaModel.Load(bin);
        const string text = "Lily and Ben went to the park. \"Look!\" said Lily.";
        Assert.Equal(original.Tokenizer!.Encode(text, addBos: true), fromBin.Tokenizer!.Encode(text, addBos: true));
    }

    [SharedDataFact("models/stories260K.bin", "models/tok512.bin")]
    public void Real_llama2c_checkpoint_to_gguf_and_back_is_exact()
    {
        string gguf = models.PathFor("stories260K.gguf"), dir = models.PathFor("stories-l2c"), bin = Path.Combine(dir, "stories260K.bin");
        Directory.CreateDirectory(dir);
        ModelConverter.Convert(TestPaths.Shared("models/stories260K.bin"), gguf, ModelFormat.Gguf);
        Assert.Equal(WeightFiles.Logits(TestPaths.Shared("models/stories260K.bin")), WeightFiles.Logits(gguf));

        ModelConverter.Convert(gguf, bin, ModelFormat.Llama2c);
        // llama2.c's own file: the same header and weights; only the RoPE tables (which run.c skips) may differ in the last bits.
        using var original = Llama2cCheckpoint.Open(TestPaths.Shared("models/stories260K.bin"));
        using var written = Llama2cCheckpoint.Open(bin);
        Assert.Equal(original.Header, written.Header);
        foreach (var t in original.Tensors)
            Assert.True(t.Bytes.SequenceEqual(written.Find(t.Name)!.Bytes), $"{t.Name} differs");
        Assert.Equal(File.ReadAllBytes(TestPaths.Shared("models/tok512.bin")), File.ReadAllBytes(Path.Combine(dir, "tok512.bin")));
    }

    [Fact]
    public void Quantized_gguf_to_hf_dequantizes_with_a_note_and_keeps_the_logits_close()
    {
        string q8 = Synth("q8.gguf", LlamaFileType.MostlyQ8_0, ConversionTestModels.KQuantFriendly);
        string hf = models.PathFor("q8-hf");
        var notes = new List<string>();
        var result = ModelConverter.Convert(q8, hf, ModelFormat.HuggingFace, note: notes.Add);
        Assert.Contains(notes, n => n.Contains("dequantized to F32") && n.Contains("Q8_0"));
        Assert.Equal(LlamaFileType.AllF32, result.FileType);
        var dequantized = WeightFiles.Logits(hf);
        float diff = WeightFiles.MaxAbsDifference(WeightFiles.Logits(q8), dequantized);
        float range = dequantized.Max(MathF.Abs);
        // Same weight values. Where the Q8_0 prefill rounds its activations to int8 (MatMul's integer kernels, on
        // AVX2-only CPUs) that moves the logits by about 1% of their range (1.5% measured); with fp32 activations
        // only the kernels' summation order differs (0 measured).
        bool int8Activations = MatMul.QuantizesActivations(GgmlType.Q8_0, ConversionTestModels.KQuantFriendly.Config.Dim, WeightFiles.Prompt.Length);
        float tolerance = int8Activations ? 0.03f * range : 1e-3f;
        output.WriteLine($"Q8_0 GGUF vs dequantized F32 HF: max |logit difference| = {diff} (max |logit| {range}, int8 activations: {int8Activations})");
        Assert.True(diff < tolerance, $"{diff} >= {tolerance}");
    }

    [Fact]
    public void Converting_to_a_quantized_gguf_gives_the_quantizers_bytes()
    {
        string f32 = Synth("cq-f32.gguf", LlamaFileType.AllF32, ConversionTestModels.KQuantFriendly);
        string hf = models.PathFor("cq-hf"), viaHf = models.PathFor("cq-via-hf.gguf"), quantized = models.PathFor("cq-quantized.gguf");
        ModelConverter.Convert(f32, hf, ModelFormat.HuggingFace);
        ModelConverter.Convert(hf, viaHf, ModelFormat.Gguf, LlamaFileType.MostlyQ5_0);
        GgufQuantizer.Quantize(f32, quantized, LlamaFileType.MostlyQ5_0);
        AssertSameTensors(quantized, viaHf);
    }

    [Fact]
    public void What_llama2c_cannot_hold_is_refused_with_the_reason()
    {
        var shape = ModelShapes.FromJson("""{"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 300, "rms_norm_eps": 1e-6}""", "eps.json");
        string gguf = Synth("eps6.gguf", LlamaFileType.AllF32, shape);
        string bin = models.PathFor("eps6.bin");
        var e = Assert.Throws<ArgumentException>(() => ModelConverter.Convert(gguf, bin, ModelFormat.Llama2c));
        Assert.Contains("epsilon 1e-5", e.Message);
        Assert.False(File.Exists(bin));
        Assert.False(File.Exists(bin + ".partial"));

        string f32 = Synth("l2c-type.gguf", LlamaFileType.AllF32);
        Assert.Contains("f32 weights only", Assert.Throws<ArgumentException>(() => ModelConverter.Convert(f32, models.PathFor("x.bin"), ModelFormat.Llama2c, LlamaFileType.MostlyF16)).Message);
        Assert.Contains("F32, F16 or BF16", Assert.Throws<ArgumentException>(() => ModelConverter.Convert(f32, models.PathFor("x-hf"), ModelFormat.HuggingFace, LlamaFileType.MostlyQ4_0)).Message);
    }

    [Fact]
    public void Bad_inputs_fail_with_a_clear_message_and_leave_nothing()
    {
        string missing = models.PathFor("missing.gguf");
        Assert.Contains("no such file", Assert.Throws<ModelFormatException>(() => ModelConverter.Convert(missing, models.PathFor("o.gguf"), ModelFormat.Gguf)).Message);

        string truncated = models.PathFor("truncated.gguf");
        var bytes = File.ReadAllBytes(Synth("whole.gguf", LlamaFileType.AllF32));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        string target = models.PathFor("from-truncated-hf");
        Assert.Throws<ModelFormatException>(() => ModelConverter.Convert(truncated, target, ModelFormat.HuggingFace));
        Assert.False(Directory.Exists(target));
        Assert.False(Directory.Exists(target + ".partial"));

        string vocabOnly = models.PathFor("vocab-only.gguf");
        using (var file = GgufFile.Open(Synth("whole.gguf", LlamaFileType.AllF32)))
        {
            var writer = new GgufWriter();
            foreach (var key in file.MetadataKeys)
                writer.Add(key, file.Metadata.Get(key)!);
            writer.Write(vocabOnly);
        }
        Assert.Contains("no LLaMA weights", Assert.Throws<ModelFormatException>(() => ModelConverter.Convert(vocabOnly, models.PathFor("v.gguf"), ModelFormat.Gguf)).Message);
    }
}
