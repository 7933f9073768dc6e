using Camelid.Formats;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Tensors.Quant;
using Camelid.Training.Model;
using Camelid.Training.Model.Projections;

namespace Camelid.Training.Lora;

/// <summary>How QLoRA keeps the frozen base's block matrices.</summary>
public enum FrozenType { Nf4, Q4_0, Q8_0 }

/// <summary>
/// QLoRA's frozen base (Dettmers et al. 2023): the seven matrices of every block held compressed (NF4 with double-quantized
/// scales by default, or ggml's Q4_0/Q8_0), the embedding, norms and head in f32; nothing of it is trainable.
/// Built one matrix at a time, so the whole model never exists in f32.
/// </summary>
public static class QuantizedBase
{
    public static FrozenType ParseType(string text) => text.ToLowerInvariant() switch
    {
        "nf4" => FrozenType.Nf4,
        "q4_0" => FrozenType.Q4_0,
        "q8_0" => FrozenType.Q8_0,
        _ => throw new ArgumentException($"--qlora-type: unknown base type '{text}'; use nf4, q4_0 or q8_0"),
    };

    public static unsafe TrainableModel From(LlamaModel model, FrozenType type)
    {
        var c = model.Config;
        var w = model.Weights;
        var names = TensorNames.Gguf;
        bool tied = w.Output.Tensor.Pointer == w.TokenEmbedding.Pointer;
        Parameter Frozen(string name, int rows, int cols, float[] values) => new(name, rows, cols, values);
        Projection Compress(LayerWeights layer, BlockMatrix target, int index)
        {
            var tensor = layer.Of(target).Tensor;
            string name = TensorNames.ForLayer(target.GgufName(), index);
            return new QuantizedProjection(name, Compressed(tensor, type));
        }
        var embedding = Frozen(names.TokenEmbedding, c.VocabSize, c.Dim, w.TokenEmbedding.ToFloats());
        return new TrainableModel
        {
            Config = c,
            TokenEmbedding = embedding,
            Head = new DenseProjection(tied ? embedding : Frozen(names.Output, c.VocabSize, c.Dim, w.Output.Tensor.ToFloats())),
            Layers = w.Layers.Select((l, i) => new TrainableBlock
            {
                AttentionNorm = Frozen(TensorNames.ForLayer(names.AttentionNorm, i), 1, c.Dim, (float[])l.AttentionNorm.Clone()),
                FfnNorm = Frozen(TensorNames.ForLayer(names.FfnNorm, i), 1, c.Dim, (float[])l.FfnNorm.Clone()),
                Q = Compress(l, BlockMatrix.Q, i),
                K = Compress(l, BlockMatrix.K, i),
                V = Compress(l, BlockMatrix.V, i),
                O = Compress(l, BlockMatrix.O, i),
                Gate = Compress(l, BlockMatrix.Gate, i),
                Up = Compress(l, BlockMatrix.Up, i),
                Down = Compress(l, BlockMatrix.Down, i),
            }).ToArray(),
            OutputNorm = Frozen(names.OutputNorm, 1, c.Dim, (float[])w.OutputNorm.Clone()),
        };
    }

    /// <summary>
    /// The same base from f32 parameters (benchmarks and tests; a real run builds it from the loaded file so that the f32
    /// model never exists). The parameters' values are shared for the embedding, norms and head, and frozen.
    /// </summary>
    public static TrainableModel From(LlamaParameters parameters, FrozenType type)
    {
        var c = parameters.Config;
        Projection Compress(Parameter p) => new QuantizedProjection(p.Name, Compressed(TensorEntry.FromFloats(p.Name, [p.Rows, p.Cols], p.Value), type));
        foreach (var p in parameters.All)
            p.Trainable = false;
        return new TrainableModel
        {
            Config = c,
            TokenEmbedding = parameters.TokenEmbedding,
            Head = new DenseProjection(parameters.OutputHead),
            Layers = parameters.Layers.Select(l => new TrainableBlock
            {
                AttentionNorm = l.AttentionNorm,
                FfnNorm = l.FfnNorm,
                Q = Compress(l.Wq),
                K = Compress(l.Wk),
                V = Compress(l.Wv),
                O = Compress(l.Wo),
                Gate = Compress(l.W1),
                Up = Compress(l.W3),
                Down = Compress(l.W2),
            }).ToArray(),
            OutputNorm = parameters.OutputNorm,
        };
    }

    /// <summary>
    /// A matrix in the frozen type. A tensor already stored in that ggml type is kept byte for byte (no second rounding);
    /// anything else is expanded to f32 and quantized.
    /// </summary>
    static IFrozenMatrix Compressed(TensorEntry tensor, FrozenType type)
    {
        int rows = checked((int)tensor.Rows), cols = checked((int)tensor.Cols);
        if (type == FrozenType.Nf4)
            return new Nf4Frozen(Nf4Matrix.Quantize(tensor.ToFloats(), rows, cols));
        var ggml = type == FrozenType.Q4_0 ? GgmlType.Q4_0 : GgmlType.Q8_0;
        if (tensor.Type == ggml)
            return new GgmlFrozen(ggml, tensor.Bytes.ToArray(), rows, cols);
        if (cols % GgmlTypes.BlockSize(ggml) != 0)
            throw new ArgumentException($"{tensor.Name}: {cols} columns are not a multiple of {ggml}'s block of {GgmlTypes.BlockSize(ggml)}; use --qlora-type nf4");
        var values = tensor.ToFloats();
        long rowBytes = GgmlTypes.RowBytes(ggml, cols);
        var data = new byte[rowBytes * rows];
        Parallel.For(0, rows, r => Quantizer.QuantizeRow(ggml, values.AsSpan(r * cols, cols), data.AsSpan((int)(r * rowBytes), (int)rowBytes)));
        return new GgmlFrozen(ggml, data, rows, cols);
    }

    /// <summary>Bytes of the frozen weights: compressed matrices plus the f32 embedding, norms and head (once when tied).</summary>
    public static long FrozenBytes(TrainableModel model)
    {
        static long Bytes(Projection p) => p switch
        {
            QuantizedProjection q => q.Weight.Bytes,
            LoraProjection lora => Bytes(lora.Base),
            DenseProjection d => 4L * d.Weight.Count,
            _ => 0L,
        };
        var head = model.Head is LoraProjection { Base: var b } ? b : model.Head;
        bool tied = head is DenseProjection d && d.Weight == model.TokenEmbedding;
        return model.Layers.Sum(l => l.Projections.Sum(Bytes) + 4L * (l.AttentionNorm.Count + l.FfnNorm.Count))
            + 4L * (model.TokenEmbedding.Count + model.OutputNorm.Count) + (tied ? 0 : Bytes(head));
    }
}
