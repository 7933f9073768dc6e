using Camelid.Formats.Gguf;
using Camelid.Model.Conversion;
using Camelid.Tensors.Quant;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Conversion;

public class SynthesizerTests(ConversionTestModels models, ITestOutputHelper output) : IClassFixture<ConversionTestModels>
{
    readonly ConversionTestModels _models = models;

    public static TheoryData<string> EveryType => new(LlamaFileTypes.Names.Keys);

    [Theory]
    [MemberData(nameof(EveryType))]
    public void Every_type_of_stories260k_loads_and_gives_finite_logits(string typeName)
    {
        var fileType = LlamaFileTypes.Parse(typeName);
        string path = _models.PathFor($"s260k-{typeName}.gguf");
        var result = ModelSynthesizer.Synthesize(ConversionTestModels.Stories260K, fileType, seed: 7, path);

        Assert.Equal(new FileInfo(path).Length, result.FileBytes);
        Assert.False(File.Exists(path + ".partial"));
        using (var file = GgufFile.Open(path))
        {
            Assert.Equal((long)(uint)fileType, file.Metadata.GetInt64("general.file_type"));
            Assert.Equal(2, file.Metadata.GetInt64("general.quantization_version"));
            Assert.Equal(result.Tensors.Select(t => (t.Name, t.Type)), file.Tensors.Select(t => (t.Name, t.Type)));
        }
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });
        Assert.Equal(ConversionTestModels.Stories260K.Config, model.Config);
        var tokens = model.RequireTokenizer().Encode("Once upon a time there was a girl.", addBos: true);
        var logits = model.Forward(tokens, model.NewKvCache(64), allLogits: true);
        Assert.Equal(tokens.Length * 512, logits.Length);
        Assert.All(logits, l => Assert.True(float.IsFinite(l)));
        Assert.True(logits.Max() - logits.Min() > 0.01f, "random weights should give logits that vary");
        output.WriteLine($"{typeName}: {result.FileBytes} bytes, {result.TypeSummary}, logits in [{logits.Min():F3}, {logits.Max():F3}]");
    }

    [Fact]
    public void The_same_seed_gives_the_same_file_and_another_seed_does_not()
    {
        string a = _models.PathFor("seed1-a.gguf"), b = _models.PathFor("seed1-b.gguf"), c = _models.PathFor("seed2.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.MostlyQ4_K_M, 1, a);
        // One thread instead of the default: the bytes must not depend on how rows are split across threads.
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.MostlyQ4_K_M, 1, b, new ConversionOptions { Threads = 1 });
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.MostlyQ4_K_M, 2, c);
        var bytesA = File.ReadAllBytes(a);
        Assert.Equal(bytesA, File.ReadAllBytes(b));
        var bytesC = File.ReadAllBytes(c);
        Assert.Equal(bytesA.Length, bytesC.Length);
        Assert.NotEqual(bytesA, bytesC);
    }

    /// <summary>Synth writes exactly what the reference quantizer makes of the weights it generates.</summary>
    [Theory]
    [InlineData(LlamaFileType.MostlyQ4_0)]
    [InlineData(LlamaFileType.MostlyQ4_K_M)]
    [InlineData(LlamaFileType.MostlyQ8_0)]
    public void Quantized_tensors_are_the_quantizer_output_of_the_generated_weights(LlamaFileType fileType)
    {
        const ulong seed = 11;
        string f32Path = _models.PathFor($"ref-f32-{fileType}.gguf"), quantPath = _models.PathFor($"ref-{fileType}.gguf");
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, LlamaFileType.AllF32, seed, f32Path);
        ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, fileType, seed, quantPath);
        using var f32 = GgufFile.Open(f32Path);
        using var quant = GgufFile.Open(quantPath);
        foreach (string name in new[] { "blk.0.attn_q.weight", "blk.3.attn_v.weight", "blk.1.ffn_down.weight", "output.weight", "token_embd.weight" })
        {
            var source = f32.Find(name)!;
            var expectedValues = new float[source.ElementCount];
            RandomWeights.Fill(RandomWeights.TensorKey(seed, name), 0, expectedValues, ModelSynthesizer.WeightStd);
            Assert.Equal(expectedValues, source.ToFloats());

            var stored = quant.Find(name)!;
            int cols = (int)stored.Cols;
            var expected = new byte[stored.ByteCount];
            long rowBytes = GgmlTypes.RowBytes(stored.Type, cols);
            for (int r = 0; r < stored.Rows; r++)
                Quantizer.QuantizeRow(stored.Type, expectedValues.AsSpan(r * cols, cols), expected.AsSpan((int)(r * rowBytes), (int)rowBytes));
            Assert.True(expected.AsSpan().SequenceEqual(stored.Bytes), $"{name} ({stored.Type}) differs from Quantizer output");
        }
        Assert.All(quant.Tensors.Where(t => t.Name.EndsWith("norm.weight")), t =>
        {
            Assert.Equal(GgmlType.F32, t.Type);
            Assert.All(t.ToFloats(), v => Assert.Equal(1f, v));
        });
    }

    /// <summary>Weights look like an initialisation: mean 0, standard deviation 0.02.</summary>
    [Fact]
    public void Random_weights_have_the_requested_spread_and_any_slice_matches_the_whole()
    {
        var values = new float[1 << 20];
        RandomWeights.Fill(RandomWeights.TensorKey(5, "w"), 0, values, 0.02f);
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Average(v => (double)v * v) - mean * mean);
        output.WriteLine($"mean {mean:E2}, std {std:F5}, max |w| {values.Max(MathF.Abs):F4}");
        Assert.InRange(mean, -1e-4, 1e-4);
        Assert.InRange(std, 0.0199, 0.0201);
        Assert.True(values.Max(MathF.Abs) <= 0.02f * 3.47f);
        // An odd offset and length exercise the vector body and the scalar tail from anywhere.
        var slice = new float[1001];
        RandomWeights.Fill(RandomWeights.TensorKey(5, "w"), 12345, slice, 0.02f);
        Assert.Equal(values.AsSpan(12345, 1001).ToArray(), slice);
        Assert.NotEqual(RandomWeights.TensorKey(5, "w"), RandomWeights.TensorKey(5, "v"));
        Assert.NotEqual(RandomWeights.TensorKey(5, "w"), RandomWeights.TensorKey(6, "w"));
    }

    [Fact]
    public void A_cancelled_run_leaves_no_file()
    {
        string path = _models.PathFor("cancelled.gguf");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly,
            LlamaFileType.MostlyQ4_0, 1, path, new ConversionOptions { Cancellation = cancel.Token }));
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Metadata_has_the_keys_the_loader_and_llama_cpp_read()
    {
        string path = _models.PathFor("meta.gguf");
        ModelSynthesizer.Synthesize(ModelShapes.Named["stories260k"], LlamaFileType.MostlyQ8_0, 3, path);
        using var file = GgufFile.Open(path);
        var m = file.Metadata;
        Assert.Equal("llama", m.GetString("general.architecture"));
        Assert.Equal(64, m.GetInt64("llama.embedding_length"));
        Assert.Equal(172, m.GetInt64("llama.feed_forward_length"));
        Assert.Equal(5, m.GetInt64("llama.block_count"));
        Assert.Equal(8, m.GetInt64("llama.attention.head_count"));
        Assert.Equal(4, m.GetInt64("llama.attention.head_count_kv"));
        Assert.Equal(8, m.GetInt64("llama.rope.dimension_count"));
        Assert.Equal(512, m.GetInt64("llama.context_length"));
        Assert.Equal(512, m.GetInt64("llama.vocab_size"));
        Assert.Equal(512, m.TryGetStringArray("tokenizer.ggml.tokens")!.Length);
        // llama-quantize leaves these two last, in this order.
        Assert.Equal(["general.quantization_version", "general.file_type"], file.MetadataKeys.TakeLast(2));
        Assert.Null(file.Find("output.weight")); // stories260K shares the classifier with the embedding
    }
}
