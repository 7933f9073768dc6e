using BenchmarkDotNet.Attributes;
using Camelid.Model;
using Camelid.Tensors.Threading;

namespace Camelid.Benchmarks;

/// <summary>One layer's causal attention for one decode step after 511 cached positions (512 keys and values
/// read) with TinyLlama's heads: 32 query heads of 64 sharing 4 KV heads.</summary>
public class AttentionBenchmarks : IWorkload
{
    const int Positions = 512;

    static readonly LlamaConfig Config = new()
    {
        Dim = 2048, HiddenDim = 5632, Layers = 1, Heads = 32, KvHeads = 4, VocabSize = 32000, TrainedContextLength = 2048,
    };

    KvCache? _cache;
    float[] _q = [], _out = [];
    ComputePool? _pool;

    [GlobalSetup]
    public void Setup()
    {
        _cache = new KvCache(1, Positions, Config.KvDim);
        var random = new Random(1);
        var keys = _cache.Keys(0, Positions);
        var values = _cache.Values(0, Positions);
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = random.NextSingle() * 2 - 1;
            values[i] = random.NextSingle() * 2 - 1;
        }
        _q = RandomWeights.Vector(Config.Dim, 2);
        _out = new float[Config.Dim];
        _pool = new ComputePool(1);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public void DecodeStep() => Attention.Causal(_out, _q, _cache!, 0, Positions - 1, 1, Config, _pool!);

    // Per query head: 512 dot products of 64 for the scores, 512 axpys of 64 for the weighted values.
    public Work Work(string method) => new(
        Bytes: 2.0 * Positions * Config.KvDim * sizeof(float),
        Ops: Config.Heads * 2 * 2.0 * Positions * Config.HeadSize,
        Peak: PeakKind.Fp32);
}
