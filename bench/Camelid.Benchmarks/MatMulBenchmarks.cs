using BenchmarkDotNet.Attributes;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Benchmarks;

/// <summary>
/// y (T, rows) = x (T, cols) · Wᵀ on one thread at TinyLlama's feed-forward size (5632 × 2048): T = 1 is a
/// decode step (bound by reading the weights: compare GB/s with the read bandwidth), T = 8 a decode step of 8
/// batched sequences (independent tokens, as continuous batching runs them), T = 64 a prefill chunk (bound by
/// arithmetic: compare GOP/s with the fp32 or int8 peak).
/// Each call takes the next of several copies of the matrix, 256 MiB in all, so that, as in a real decode step
/// (a model is far larger than any cache), the weights come from memory and not from a cache holding the
/// last call's: one 5632 × 2048 matrix alone fits a server's L3.
/// </summary>
public class MatMulBenchmarks : IWorkload
{
    const int Rows = 5632, Cols = 2048;
    const long WorkingSetBytes = 256L << 20;

    [Params(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q4_K, GgmlType.Q6_K)]
    public GgmlType Type { get; set; }

    [Params(1, 8, 64)]
    public int Tokens { get; set; }

    WeightMatrix[] _copies = [];
    byte[][] _storage = [];
    int _next;
    float[] _x = [], _y = [];
    ComputePool? _pool;

    [GlobalSetup]
    public void Setup()
    {
        var first = RandomWeights.Matrix(Type, Rows, Cols, seed: 1, out var bytes);
        int count = (int)Math.Max(1, (WorkingSetBytes + first.SizeInBytes - 1) / first.SizeInBytes);
        _storage = [bytes, .. Enumerable.Range(1, count - 1).Select(_ => RandomWeights.PinnedCopy(bytes))];
        _copies = _storage.Select(RandomWeights.View(Type, Rows, Cols)).ToArray();
        _x = RandomWeights.Vector(Tokens * Cols, seed: 2);
        _y = new float[Tokens * Rows];
        _pool = new ComputePool(1);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public void Multiply()
    {
        ref readonly var w = ref _copies[_next];
        _next = (_next + 1) % _copies.Length;
        MatMul.Multiply(in w, _x, _y, Tokens, _pool!, independentTokens: Tokens == 8);
    }

    public Work Work(string method) => new(
        Bytes: GgmlTypes.RowBytes(Type, Cols) * (double)Rows,
        Ops: 2.0 * Rows * Cols * Tokens,
        Peak: GgmlTypes.IsQuantized(Type) ? PeakKind.Int8 : PeakKind.Fp32,
        FromMemory: true);
}
