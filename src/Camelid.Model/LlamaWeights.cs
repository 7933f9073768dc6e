using Camelid.Formats;
using Camelid.Tensors.Quant;

namespace Camelid.Model;

/// <summary>One transformer block's weights (shapes in the comments, outermost first).</summary>
public sealed class LayerWeights
{
    public required float[] AttentionNorm { get; init; } // (dim)
    public required Linear Wq { get; init; }             // (dim, dim)
    public required Linear Wk { get; init; }             // (kvDim, dim)
    public required Linear Wv { get; init; }             // (kvDim, dim)
    public required Linear Wo { get; init; }             // (dim, dim)
    public required float[] FfnNorm { get; init; }       // (dim)
    public required Linear W1 { get; init; }             // (hidden, dim)  gate
    public required Linear W2 { get; init; }             // (dim, hidden)  down
    public required Linear W3 { get; init; }             // (hidden, dim)  up
}

/// <summary>All weights of a LLaMA model, as views into the model file (only norms are copied to fp32).</summary>
public sealed class LlamaWeights
{
    public required TensorEntry TokenEmbedding { get; init; } // (vocab, dim), any type; rows looked up per token
    public required LayerWeights[] Layers { get; init; }
    public required float[] OutputNorm { get; init; }         // (dim)
    public required Linear Output { get; init; }              // (vocab, dim); the embedding itself when tied

    /// <summary>Copies token <paramref name="id"/>'s embedding row into <paramref name="x"/> (dim).</summary>
    public void Embed(int id, Span<float> x)
    {
        if ((uint)id >= TokenEmbedding.Rows)
            throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside the vocabulary (0..{TokenEmbedding.Rows - 1})");
        Dequantizer.DequantizeRow(TokenEmbedding.Type, TokenEmbedding.RowBytes(id, 1), x);
    }

    /// <summary>Checks every shape against the config so a mismatched file fails at load, not mid-generation.</summary>
    public void Validate(LlamaConfig c, string source)
    {
        void Expect(string what, long[] shape, params long[] expected)
        {
            if (!shape.SequenceEqual(expected))
                throw new ModelFormatException($"{source}: {what} has shape {TensorEntry.FormatShape(shape)}, expected {TensorEntry.FormatShape(expected)} for dim={c.Dim}, hidden={c.HiddenDim}, heads={c.Heads}, kv_heads={c.KvHeads}, vocab={c.VocabSize}");
        }
        void ExpectLinear(Linear l, int rows, int cols) => Expect(l.Name, [l.OutFeatures, l.InFeatures], rows, cols);

        Expect(TokenEmbedding.Name, TokenEmbedding.Shape, c.VocabSize, c.Dim);
        Expect("output norm", [OutputNorm.Length], c.Dim);
        ExpectLinear(Output, c.VocabSize, c.Dim);
        if (Layers.Length != c.Layers)
            throw new ModelFormatException($"{source}: found {Layers.Length} layers, the config says {c.Layers}");
        foreach (var l in Layers)
        {
            Expect("attention norm", [l.AttentionNorm.Length], c.Dim);
            Expect("ffn norm", [l.FfnNorm.Length], c.Dim);
            ExpectLinear(l.Wq, c.Dim, c.Dim);
            ExpectLinear(l.Wk, c.KvDim, c.Dim);
            ExpectLinear(l.Wv, c.KvDim, c.Dim);
            ExpectLinear(l.Wo, c.Dim, c.Dim);
            ExpectLinear(l.W1, c.HiddenDim, c.Dim);
            ExpectLinear(l.W2, c.Dim, c.HiddenDim);
            ExpectLinear(l.W3, c.HiddenDim, c.Dim);
        }
    }
}
