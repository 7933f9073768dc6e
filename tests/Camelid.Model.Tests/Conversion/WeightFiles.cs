using Camelid.Formats.Gguf;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Tests.Conversion;

/// <summary>Builds the model files the convert and delta tests need, and reads back what the engine computes from them.</summary>
static class WeightFiles
{
    public static readonly int[] Prompt = [1, 5, 9, 100, 200, 250, 30, 7];

    /// <summary>All logits of <see cref="Prompt"/>, (tokens, vocab).</summary>
    public static float[] Logits(string modelPath)
    {
        using var model = LlamaModel.Load(modelPath);
        return model.Forward(Prompt, model.NewKvCache(16), allLogits: true);
    }

    public static float MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
            max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        return max;
    }

    /// <summary>
    /// Rewrites a GGUF with new values for each tensor (same types and metadata), optionally with
    /// <paramref name="addedTokens"/> more vocabulary entries: user-defined tokens, and as many new rows of
    /// token_embd/output, as FastChat's Vicuna v0 added a pad token to LLaMA's 32000.
    /// </summary>
    public static void Rewrite(string from, string to, Func<string, float[], float[]> values, int addedTokens = 0)
    {
        using var file = GgufFile.Open(from);
        var writer = new GgufWriter();
        int vocabulary = (int)file.Find("token_embd.weight")!.Rows;
        foreach (var key in file.MetadataKeys)
        {
            object value = file.Metadata.Get(key)!;
            if (addedTokens > 0)
                value = (key, value) switch
                {
                    ("llama.vocab_size", _) => (uint)(vocabulary + addedTokens),
                    ("tokenizer.ggml.tokens", string[] tokens) => tokens.Concat(Enumerable.Range(0, addedTokens).Select(i => $"<added_{i}>")).ToArray(),
                    ("tokenizer.ggml.scores", float[] scores) => scores.Concat(new float[addedTokens]).ToArray(),
                    ("tokenizer.ggml.token_type", int[] types) => types.Concat(Enumerable.Repeat(4, addedTokens)).ToArray(),
                    _ => value,
                };
            writer.Add(key, value);
        }
        foreach (var t in file.Tensors)
        {
            var floats = values(t.Name, t.ToFloats());
            var shape = (long[])t.Shape.Clone();
            if (addedTokens > 0 && t.Name is "token_embd.weight" or "output.weight")
            {
                floats = floats.Concat(Enumerable.Range(0, addedTokens * (int)t.Cols).Select(i => 0.01f * MathF.Sin(i))).ToArray();
                shape[0] += addedTokens;
            }
            var bytes = new byte[GgmlTypes.RowBytes(t.Type, floats.Length)];
            Quantizer.QuantizeRow(t.Type, floats, bytes);
            writer.AddTensor(t.Name, t.Type, shape, bytes);
        }
        writer.Write(to);
    }

    /// <summary>A small deterministic change to every value, as a fine-tune would make.</summary>
    public static float[] FineTuned(string name, float[] values)
    {
        int salt = name.Length;
        return values.Select((v, i) => v + 0.003f * MathF.Sin(i * 0.7f + salt)).ToArray();
    }

    public static void AssertSameFolder(string expected, string actual)
    {
        var names = Directory.GetFiles(expected).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names, Directory.GetFiles(actual).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList());
        foreach (var name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(expected, name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, name!))), $"{name} differs");
    }
}
