using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Model.Conversion;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Conversion;

public class GgufQuantizerTests(ConversionTestModels models, ITestOutputHelper output) : IClassFixture<ConversionTestModels>
{
    const string Stories = "models/stories260K.gguf";

    /// <summary>Synth and quantize share one conversion: an F32 synth quantized gives the file a direct synth writes.</summary>
    [Theory]
    [InlineData("q4_k_m")]
    [InlineData("q4_k_s")]
    [InlineData("q5_k_m")]
    [InlineData("q6_k")]
    [InlineData("q4_0")]
    [InlineData("q4_1")]
    [InlineData("q5_1")]
    [InlineData("q8_0")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void Quantizing_an_f32_synth_gives_the_direct_synth_byte_for_byte(string type)
    {
        var fileType = LlamaFileTypes.Parse(type);
        string f32 = models.PathFor($"eq-f32-{type}.gguf"), direct = models.PathFor($"eq-direct-{type}.gguf"), quantized = models.PathFor($"eq-quantized-{type}.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.AllF32, 42, f32);
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, fileType, 42, direct);
        var warnings = new List<string>();
        var result = GgufQuantizer.Quantize(f32, quantized, fileType, warning: warnings.Add);
        Assert.Empty(warnings);
        Assert.Equal(File.ReadAllBytes(direct), File.ReadAllBytes(quantized));
        output.WriteLine($"{type}: {result.FileBytes} bytes, {result.TypeSummary}");
    }

    [Fact]
    public void Q4_K_M_file_of_8_layers_has_the_mix_table()
    {
        string f32 = models.PathFor("mix-f32.gguf"), q = models.PathFor("mix-q4km.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.AllF32, 1, f32);
        GgufQuantizer.Quantize(f32, q, LlamaFileType.MostlyQ4_K_M);
        using var file = GgufFile.Open(q);
        GgmlType TypeOf(string name) => file.Find(name)!.Type;
        Assert.Equal(GgmlType.Q6_K, TypeOf("output.weight"));
        Assert.Equal(GgmlType.Q4_K, TypeOf("token_embd.weight"));
        for (int i = 0; i < 8; i++)
        {
            var expected = i is 0 or 3 or 6 or 7 ? GgmlType.Q6_K : GgmlType.Q4_K; // use_more_bits(i, 8)
            Assert.Equal(expected, TypeOf($"blk.{i}.attn_v.weight"));
            Assert.Equal(expected, TypeOf($"blk.{i}.ffn_down.weight"));
            Assert.Equal(GgmlType.Q4_K, TypeOf($"blk.{i}.attn_q.weight"));
            Assert.Equal(GgmlType.Q4_K, TypeOf($"blk.{i}.ffn_up.weight"));
            Assert.Equal(GgmlType.F32, TypeOf($"blk.{i}.attn_norm.weight"));
        }
        Assert.Equal(15, file.Metadata.GetInt64("general.file_type"));
    }

    /// <summary>
    /// The real stories260K (all F32) quantized to Q8_0 (ffn_down, rows of 172, falls back to F16) predicts what the
    /// original predicts: every logit within 1% of the range the logits span (about 38, so 0.38; measured 0.21, with
    /// an RMS difference of about 0.05) and the same greedy token at every position.
    /// </summary>
    [SharedDataFact(Stories)]
    public void Stories260k_in_q8_0_gives_logits_close_to_f32()
    {
        string q8 = models.PathFor("stories260K-q8_0.gguf");
        var result = GgufQuantizer.Quantize(TestPaths.Shared(Stories), q8, LlamaFileType.MostlyQ8_0);
        Assert.Contains(result.Tensors, t => t.Type == GgmlType.Q8_0);
        using var original = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Threads = 1 });
        using var quantized = LlamaModel.Load(q8, new ModelLoadOptions { Threads = 1 });
        Assert.Equal(original.Config, quantized.Config);
        var tokens = original.RequireTokenizer().Encode("Once upon a time, there was a little girl named Lily. She loved to play.", addBos: true);
        Assert.Equal(tokens, quantized.RequireTokenizer().Encode("Once upon a time, there was a little girl named Lily. She loved to play.", addBos: true));
        var expected = original.Forward(tokens, original.NewKvCache(64), allLogits: true);
        var actual = quantized.Forward(tokens, quantized.NewKvCache(64), allLogits: true);
        double maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        double rmsDiff = Math.Sqrt(expected.Zip(actual, (a, b) => (double)(a - b) * (a - b)).Average());
        double span = expected.Max() - expected.Min();
        output.WriteLine($"max |logit diff| = {maxDiff:F4}, rms {rmsDiff:F4} over {tokens.Length} positions; logits span [{expected.Min():F2}, {expected.Max():F2}]");
        Assert.True(maxDiff < 0.01 * span, $"Q8_0 logits differ from F32 by up to {maxDiff} (span {span})");
        int vocab = original.Config.VocabSize;
        for (int t = 0; t < tokens.Length; t++)
            Assert.Equal(ArgMax(expected.AsSpan(t * vocab, vocab)), ArgMax(actual.AsSpan(t * vocab, vocab)));

        // Everything but the file type keys is copied, in order.
        using var source = GgufFile.Open(TestPaths.Shared(Stories));
        using var written = GgufFile.Open(q8);
        var copied = source.MetadataKeys.Where(k => k is not ("general.file_type" or "general.quantization_version")).ToList();
        Assert.Equal(copied, written.MetadataKeys.Take(copied.Count));
        foreach (var key in copied)
            Assert.Equal(source.Metadata.Get(key), written.Metadata.Get(key));
        Assert.Equal(7, written.Metadata.GetInt64("general.file_type"));
    }

    static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
            if (x[i] > x[best]) best = i;
        return best;
    }

    [Fact]
    public void Quantized_sources_are_requantized_with_a_warning_and_same_type_tensors_copied()
    {
        string q8 = models.PathFor("src-q8.gguf"), q4 = models.PathFor("src-q8-to-q4.gguf"), again = models.PathFor("src-q8-to-q8.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.MostlyQ8_0, 3, q8);
        var warnings = new List<string>();
        GgufQuantizer.Quantize(q8, q4, LlamaFileType.MostlyQ4_0, warning: warnings.Add);
        Assert.Single(warnings);
        Assert.Contains("already quantized", warnings[0]);
        using (var source = GgufFile.Open(q8))
        using (var file = GgufFile.Open(q4))
        {
            // Requantized: the Q4_0 bytes are Quantizer's output on the dequantized Q8_0 rows.
            var from = source.Find("blk.2.attn_q.weight")!;
            var to = file.Find("blk.2.attn_q.weight")!;
            Assert.Equal(GgmlType.Q4_0, to.Type);
            var values = from.ToFloats();
            var expected = new byte[to.ByteCount];
            int cols = (int)to.Cols, rowBytes = (int)GgmlTypes.RowBytes(GgmlType.Q4_0, cols);
            for (int r = 0; r < to.Rows; r++)
                Quantizer.QuantizeRow(GgmlType.Q4_0, values.AsSpan(r * cols, cols), expected.AsSpan(r * rowBytes, rowBytes));
            Assert.True(expected.AsSpan().SequenceEqual(to.Bytes));
        }
        // Q8_0 to Q8_0: nothing to convert, every tensor copied as is: the same file.
        warnings.Clear();
        GgufQuantizer.Quantize(q8, again, LlamaFileType.MostlyQ8_0, warning: warnings.Add);
        Assert.Empty(warnings);
        Assert.Equal(File.ReadAllBytes(q8), File.ReadAllBytes(again));
    }

    [Fact]
    public void The_input_is_never_overwritten_and_bad_inputs_fail_clearly()
    {
        string model = models.PathFor("keep.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.Stories260K, LlamaFileType.AllF32, 1, model);
        var before = File.ReadAllBytes(model);
        Assert.Throws<ArgumentException>(() => GgufQuantizer.Quantize(model, model, LlamaFileType.MostlyQ8_0));
        string sameThroughDots = Path.Combine(Path.GetDirectoryName(model)!, ".", Path.GetFileName(model));
        Assert.Throws<ArgumentException>(() => GgufQuantizer.Quantize(model, sameThroughDots, LlamaFileType.MostlyQ8_0));
        string link = models.PathFor("link.gguf");
        File.CreateSymbolicLink(link, model);
        Assert.Throws<ArgumentException>(() => GgufQuantizer.Quantize(model, link, LlamaFileType.MostlyQ8_0));
        Assert.Equal(before, File.ReadAllBytes(model));

        Assert.Throws<ModelFormatException>(() => GgufQuantizer.Quantize(models.PathFor("missing.gguf"), models.PathFor("x.gguf"), LlamaFileType.MostlyQ8_0));
        string text = models.PathFor("text.gguf");
        File.WriteAllText(text, "not a model at all, just some text");
        Assert.Throws<ModelFormatException>(() => GgufQuantizer.Quantize(text, models.PathFor("y.gguf"), LlamaFileType.MostlyQ8_0));
        Assert.False(File.Exists(models.PathFor("x.gguf")));
        Assert.False(File.Exists(models.PathFor("y.gguf")));
    }
}
