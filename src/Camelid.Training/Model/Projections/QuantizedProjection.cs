using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;
using static Camelid.Tensors.Training.Differentiable;

namespace Camelid.Training.Model.Projections;

/// <summary>A frozen weight kept compressed and expanded to f32 rows on demand.</summary>
public interface IFrozenMatrix
{
    int Rows { get; }
    int Cols { get; }
    /// <summary>Bytes held for the weight (codes and scales).</summary>
    long Bytes { get; }
    /// <summary>"nf4", "q4_0", …</summary>
    string Kind { get; }
    void DequantizeRows(int firstRow, int rowCount, Span<float> destination);
}

/// <summary>NF4 with block size 64 and double-quantized scales (QLoRA's storage type).</summary>
public sealed class Nf4Frozen(Nf4Matrix matrix) : IFrozenMatrix
{
    public int Rows => matrix.Rows;
    public int Cols => matrix.Cols;
    public long Bytes => matrix.Bytes;
    public string Kind => "nf4";
    public void DequantizeRows(int firstRow, int rowCount, Span<float> destination) => matrix.DequantizeRows(firstRow, rowCount, destination);
}

/// <summary>One of ggml's block types (Q4_0, Q8_0, …), as the inference engine stores it.</summary>
public sealed class GgmlFrozen : IFrozenMatrix
{
    readonly byte[] _data;
    readonly long _rowBytes;

    public GgmlFrozen(GgmlType type, byte[] data, int rows, int cols)
    {
        _rowBytes = GgmlTypes.RowBytes(type, cols);
        if (data.Length != _rowBytes * rows)
            throw new ArgumentException($"{data.Length} bytes do not hold {rows} rows of {cols} {type} values");
        Type = type;
        _data = data;
        Rows = rows;
        Cols = cols;
    }

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long Bytes => _data.Length;
    public string Kind => Type.ToString().ToLowerInvariant();

    public void DequantizeRows(int firstRow, int rowCount, Span<float> destination)
    {
        for (int r = 0; r < rowCount; r++)
            Dequantizer.DequantizeRow(Type, _data.AsSpan((int)((firstRow + r) * _rowBytes), (int)_rowBytes), destination.Slice(r * Cols, Cols));
    }
}

/// <summary>
/// A frozen compressed weight (QLoRA's base): each product expands the weight to f32 in a scratch matrix shared by all
/// projections, then runs the dense kernels; the backward pass only propagates dx = dy·W through it.
/// </summary>
public sealed unsafe class QuantizedProjection(string name, IFrozenMatrix weight) : Projection
{
    /// <summary>Rows expanded per parallel chunk.</summary>
    const int RowChunk = 64;
    [ThreadStatic] static float[]? t_expanded;

    public IFrozenMatrix Weight => weight;
    public override string Name => name;
    public override int InFeatures => weight.Cols;
    public override int OutFeatures => weight.Rows;
    public override string Kind => "frozen " + weight.Kind;
    public override IEnumerable<Parameter> TrainableParameters => [];

    public override void Forward(Span<float> y, ReadOnlySpan<float> x, int T, ComputePool pool, ForwardPass pass) =>
        LinearForward(y, x, Expand(pool), T, InFeatures, OutFeatures, pool);

    public override void Backward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int T, ComputePool pool, bool accumulateInput) =>
        LinearBackward(dx, [], dy, x, Expand(pool), T, InFeatures, OutFeatures, pool, accumulateInput);

    ReadOnlySpan<float> Expand(ComputePool pool)
    {
        int count = OutFeatures * InFeatures;
        if (t_expanded == null || t_expanded.Length < count)
            t_expanded = new float[count]; // grows to the largest matrix, then serves them all
        fixed (float* destination = t_expanded)
        {
            var body = new ExpandBody { Weight = weight, Destination = destination };
            pool.For((OutFeatures + RowChunk - 1) / RowChunk, ref body);
        }
        return t_expanded.AsSpan(0, count);
    }

    struct ExpandBody : IParallelBody
    {
        public IFrozenMatrix Weight;
        public float* Destination;

        public readonly void Execute(int start, int end)
        {
            int rows = Weight.Rows, cols = Weight.Cols;
            for (int chunk = start; chunk < end; chunk++)
            {
                int first = chunk * RowChunk, n = Math.Min(RowChunk, rows - first);
                Weight.DequantizeRows(first, n, new Span<float>(Destination + (long)first * cols, n * cols));
            }
        }
    }
}
