using BenchmarkDotNet.Attributes;
using Camelid.Tensors.Kernels;

namespace Camelid.Benchmarks;

/// <summary>The vector kernels around the matrix products, at TinyLlama's sizes: RMSNorm over dim 2048, softmax
/// over 512 attention scores and over a 32000-token vocabulary, SwiGLU over the hidden 5632. All are memory-bound
/// in L1/L2, so GB/s (bytes read + written once) is the figure to watch.</summary>
public class OpsBenchmarks : IWorkload
{
    const int Dim = 2048, Scores = 512, Vocab = 32000, Hidden = 5632;

    float[] _x = [], _weight = [], _out = [], _scores = [], _logits = [], _gate = [], _up = [];

    [GlobalSetup]
    public void Setup()
    {
        _x = RandomWeights.Vector(Dim, 1);
        _weight = RandomWeights.Vector(Dim, 2);
        _out = new float[Dim];
        _scores = RandomWeights.Vector(Scores, 3);
        _logits = RandomWeights.Vector(Vocab, 4);
        _gate = RandomWeights.Vector(Hidden, 5);
        _up = RandomWeights.Vector(Hidden, 6);
    }

    [Benchmark]
    public void RmsNorm() => Ops.RmsNorm(_out, _x, _weight, 1e-5f);

    // In place: the values shrink towards a uniform distribution run after run but stay finite and of the same work.
    [Benchmark]
    public void Softmax512() => Ops.Softmax(_scores);

    [Benchmark]
    public void Softmax32000() => Ops.Softmax(_logits);

    // In place on the gate: silu(g)·u converges to 0 or a fixed point, still finite.
    [Benchmark]
    public void SwiGlu() => Ops.SwiGlu(_gate, _up);

    public Work Work(string method) => method switch
    {
        nameof(RmsNorm) => new(3.0 * Dim * sizeof(float), 0, PeakKind.None),
        nameof(Softmax512) => new(2.0 * Scores * sizeof(float), 0, PeakKind.None),
        nameof(Softmax32000) => new(2.0 * Vocab * sizeof(float), 0, PeakKind.None),
        nameof(SwiGlu) => new(3.0 * Hidden * sizeof(float), 0, PeakKind.None),
        _ => throw new ArgumentException($"no work known for {method}"),
    };
}
