using BenchmarkDotNet.Attributes;
using Camelid.Tensors.Quant;

namespace Camelid.Benchmarks;

/// <summary>One quantized row · one fp32 vector of 2048 (TinyLlama's dim) through <see cref="QuantDot.Dot"/>:
/// activation quantization, weight unpacking and the integer dot product, as one call does them.</summary>
public class QuantDotBenchmarks : IWorkload
{
    const int N = 2048;

    [Params(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K)]
    public GgmlType Type { get; set; }

    byte[] _row = [];
    float[] _x = [];

    [GlobalSetup]
    public void Setup()
    {
        RandomWeights.Matrix(Type, 1, N, seed: 1, out _row);
        _x = RandomWeights.Vector(N, seed: 2);
    }

    [Benchmark]
    public float Dot() => QuantDot.Dot(Type, _row, _x);

    public Work Work(string method) => new(Bytes: GgmlTypes.RowBytes(Type, N), Ops: 2.0 * N, Peak: PeakKind.Int8);
}
