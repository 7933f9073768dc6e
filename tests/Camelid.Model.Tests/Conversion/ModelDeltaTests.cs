using Camelid.Formats;
using Camelid.Formats.Safetensors;
using Camelid.Model.Conversion;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Conversion;

public class ModelDeltaTests(ConversionTestModels models, ITestOutputHelper output) : IClassFixture<ConversionTestModels>
{
    /// <summary>
    /// A base and a fine-tuned target (every value moved a little) of the same synthetic model, the target with
    /// <paramref name="addedTokens"/> more vocabulary rows; element 5 of token_embd is crafted so that f32 subtraction
    /// is inexact: base 1000, target 6e-8 (an F16 subnormal) gives d = −1000 and base + d = 0.
    /// </summary>
    (string Base, string Target) Pair(string name, LlamaFileType type, int addedTokens, ModelShape? shape = null)
    {
        string raw = models.PathFor($"{name}-raw.gguf"), basePath = models.PathFor($"{name}-base.gguf"), target = models.PathFor($"{name}-target.gguf");
        ModelSynthesizer.Synthesize(shape ?? ConversionTestModels.Stories260K, type, 11, raw);
        static float[] Crafted(string tensor, float[] values, float element)
        {
            if (tensor == "token_embd.weight")
                values[5] = element;
            return values;
        }
        WeightFiles.Rewrite(raw, basePath, (n, v) => Crafted(n, v, 1000f));
        WeightFiles.Rewrite(raw, target, (n, v) => Crafted(n, WeightFiles.FineTuned(n, v), 6e-8f), addedTokens);
        return (basePath, target);
    }

    [Theory]
    [InlineData("f16", 1)]
    [InlineData("bf16", 0)]
    [InlineData("f32", 3)]
    public void Make_then_apply_rebuilds_a_gguf_target_byte_for_byte(string type, int addedTokens)
    {
        var (basePath, target) = Pair($"gguf-{type}", LlamaFileTypes.Parse(type), addedTokens);
        string delta = models.PathFor($"gguf-{type}-delta"), rebuilt = models.PathFor($"gguf-{type}-rebuilt.gguf");
        var made = ModelDelta.Make(basePath, target, delta);
        output.WriteLine($"{type}: {made.Corrections} correction(s), base sha256 {made.BaseSha256}");
        Assert.True(made.Corrections >= 1); // the crafted element at least

        using (var corrections = SafetensorsFile.Open(Path.Combine(delta, ModelDelta.CorrectionsFile)))
            Assert.Contains(5L, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(corrections.Find("token_embd.weight:index")!.Bytes).ToArray());

        ModelDelta.Apply(basePath, delta, rebuilt);
        Assert.Equal(File.ReadAllBytes(target), File.ReadAllBytes(rebuilt));
        Assert.Equal(WeightFiles.Logits(target), WeightFiles.Logits(rebuilt));
    }

    [Fact]
    public void Added_vocabulary_rows_are_carried_whole_and_the_rest_is_the_difference()
    {
        var (basePath, target) = Pair("rows", LlamaFileType.AllF32, addedTokens: 1, ConversionTestModels.KQuantFriendly);
        string delta = models.PathFor("rows-delta");
        ModelDelta.Make(basePath, target, delta);
        using var baseModel = ModelSource.Open(basePath);
        using var targetModel = ModelSource.Open(target);
        using var deltaFile = SafetensorsFile.Open(Path.Combine(delta, ModelDelta.DeltaFile));
        var manifest = DeltaManifest.Read(delta);
        foreach (var name in new[] { "token_embd.weight", "output.weight" })
        {
            var d = deltaFile.Find(name)!.ToFloats();
            var t = targetModel.Find(name)!.Stored.ToFloats();
            var b = baseModel.Find(name)!.Stored.ToFloats();
            Assert.Equal(321, manifest.Tensors.Single(m => m.Name == name).Shape[0]);
            Assert.Equal(320, manifest.Tensors.Single(m => m.Name == name).BaseRows);
            Assert.Equal(t[^256..], d[^256..]);                     // the added row: the target itself
            Assert.Equal(t[10] - b[10], d[10]);
        }
    }

    [Fact]
    public void A_hugging_face_target_is_rebuilt_file_for_file_and_the_base_may_be_another_format()
    {
        var (baseGguf, targetGguf) = Pair("hf", LlamaFileType.MostlyF16, addedTokens: 1, ConversionTestModels.KQuantFriendly);
        string targetHf = models.PathFor("hf-target"), delta = models.PathFor("hf-delta"), rebuilt = models.PathFor("hf-rebuilt");
        string baseHf = models.PathFor("hf-base");
        ModelConverter.Convert(targetGguf, targetHf, ModelFormat.HuggingFace);
        ModelConverter.Convert(baseGguf, baseHf, ModelFormat.HuggingFace);

        // Made against the GGUF base, applied to the same weights as a Hugging Face folder: the checksum covers values.
        var made = ModelDelta.Make(baseGguf, targetHf, delta);
        ModelDelta.Apply(baseHf, delta, rebuilt);
        WeightFiles.AssertSameFolder(targetHf, rebuilt);
        Assert.Equal(made.BaseSha256, DeltaManifest.Read(delta).Base.Sha256);
    }

    [Fact]
    public void A_llama2c_target_is_rebuilt_with_its_tokenizer()
    {
        var (baseGguf, targetGguf) = Pair("l2c", LlamaFileType.AllF32, addedTokens: 0);
        string dir = models.PathFor("l2c-target"), outDir = models.PathFor("l2c-out");
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(outDir);
        string target = Path.Combine(dir, "model.bin"), delta = models.PathFor("l2c-delta"), rebuilt = Path.Combine(outDir, "model.bin");
        ModelConverter.Convert(targetGguf, target, ModelFormat.Llama2c);
        ModelDelta.Make(baseGguf, target, delta);
        ModelDelta.Apply(baseGguf, delta, rebuilt);
        Assert.Equal(File.ReadAllBytes(target), File.ReadAllBytes(rebuilt));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "tok512.bin")), File.ReadAllBytes(Path.Combine(outDir, "tok512.bin")));
    }

    [Fact]
    public void Applying_to_a_wrong_base_names_both_bases_and_writes_nothing()
    {
        var (basePath, target) = Pair("wrong", LlamaFileType.MostlyF16, addedTokens: 0);
        string delta = models.PathFor("wrong-delta"), other = models.PathFor("wrong-other.gguf"), rebuilt = models.PathFor("wrong-rebuilt.gguf");
        var made = ModelDelta.Make(basePath, target, delta);
        ModelSynthesizer.Synthesize(ConversionTestModels.Stories260K, LlamaFileType.MostlyF16, 12, other); // same shapes, other weights

        var e = Assert.Throws<ModelFormatException>(() => ModelDelta.Apply(other, delta, rebuilt));
        output.WriteLine(e.Message);
        Assert.Contains("wrong base", e.Message);
        Assert.Contains(made.BaseSha256, e.Message);
        Assert.Contains("synthetic-stories260k", e.Message);
        Assert.False(File.Exists(rebuilt));
        Assert.False(File.Exists(rebuilt + ".partial"));

        var untied = models.PathFor("wrong-untied.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.MostlyF16, 12, untied);
        Assert.Contains("wrong base", Assert.Throws<ModelFormatException>(() => ModelDelta.Apply(untied, delta, rebuilt)).Message);
    }

    [Fact]
    public void Mismatched_models_and_quantized_targets_are_refused_before_writing()
    {
        var (basePath, _) = Pair("mismatch", LlamaFileType.AllF32, addedTokens: 0);
        string untied = models.PathFor("mismatch-untied.gguf"), q8 = models.PathFor("mismatch-q8.gguf"), delta = models.PathFor("mismatch-delta");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.AllF32, 1, untied);
        Assert.Contains("different tensors", Assert.Throws<ModelFormatException>(() => ModelDelta.Make(basePath, untied, delta)).Message);
        ModelSynthesizer.Synthesize(ConversionTestModels.Stories260K, LlamaFileType.MostlyQ8_0, 1, q8);
        Assert.Contains("F32/F16/BF16 target", Assert.Throws<ModelFormatException>(() => ModelDelta.Make(basePath, q8, delta)).Message);
        Assert.False(Directory.Exists(delta));
        Assert.False(Directory.Exists(delta + ".partial"));
    }
}
