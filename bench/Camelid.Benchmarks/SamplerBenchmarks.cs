using BenchmarkDotNet.Attributes;
using Camelid.Inference.Sampling;

namespace Camelid.Benchmarks;

/// <summary>One draw from TinyLlama-sized logits (32000) with llama.cpp's default chain (top-k 40, top-p 0.95,
/// min-p 0.05, temperature 0.8), as every sampled token of every sequence pays it on the decode thread. The logits
/// are copied back before each draw (the penalties write them), which the bytes count as read once.</summary>
public class SamplerBenchmarks : IWorkload
{
    const int Vocab = 32000;

    float[] _logits = [], _work = [];
    int[] _history = [];
    Sampler _sampler = null!;

    [GlobalSetup]
    public void Setup()
    {
        // A peaked distribution, as a language model gives: a few hundred tokens well above the rest.
        _logits = RandomWeights.Vector(Vocab, 7).Select((v, i) => v * 4 + (i % 97 == 0 ? 6f : 0f)).ToArray();
        _work = new float[Vocab];
        _history = Enumerable.Range(0, 64).Select(i => i * 487 % Vocab).ToArray();
        _sampler = new Sampler(new SamplingOptions { Seed = 1 });
    }

    [Benchmark]
    public int SampleDefaults()
    {
        _logits.CopyTo(_work, 0);
        return _sampler.Sample(_work, _history);
    }

    public Work Work(string method) => method switch
    {
        nameof(SampleDefaults) => new(2.0 * Vocab * sizeof(float), 0, PeakKind.None),
        _ => throw new ArgumentException($"no work known for {method}"),
    };
}
