using Camelid.Tensors.Threading;

namespace Camelid.Model.Tests;

/// <summary>
/// Decode attention (a few query tokens, the query heads of each key/value head run together over chunks of 64
/// cached positions) against a naive float64 softmax(q·Kᵀ/√d)·V, for head sizes with and without the
/// register-held output (64, 128 and 8) and for caches of one, several and partial chunks.
/// </summary>
public class DecodeAttentionTests
{
    [Theory]
    [InlineData(64, 8, 2, 1, 150)]   // 4 query heads per key/value head (TinyLlama has 8), three chunks
    [InlineData(64, 8, 8, 3, 64)]    // no grouping, exactly one chunk
    [InlineData(128, 4, 1, 2, 200)]  // all heads share one key/value head, two 64-value slices per head
    [InlineData(8, 8, 4, 1, 70)]     // stories260K's head size: the portable weighted sum
    public void Matches_a_naive_reference(int headSize, int heads, int kvHeads, int tokens, int positions)
    {
        var config = new LlamaConfig
        {
            Dim = headSize * heads, HiddenDim = 16, Layers = 2, Heads = heads, KvHeads = kvHeads, VocabSize = 16, TrainedContextLength = positions,
        };
        int dim = config.Dim, kvDim = config.KvDim, start = positions - tokens, layer = 1;
        var rng = new Random(headSize * 1000 + positions);
        float Next() => (float)(rng.NextDouble() * 4 - 2); // scores spread enough that every position matters
        var cache = new KvCache(2, positions, kvDim);
        for (int p = 0; p < positions; p++)
            for (int i = 0; i < kvDim; i++)
            {
                cache.KeyAt(layer, p)[i] = Next();
                cache.ValueAt(layer, p)[i] = Next();
            }
        var q = new float[tokens * dim];
        for (int i = 0; i < q.Length; i++) q[i] = Next();

        var output = new float[tokens * dim];
        using var pool = new ComputePool(2);
        Attention.Causal(output, q, cache, layer, start, tokens, config, pool);

        int group = heads / kvHeads;
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                int seen = start + t + 1, kv = h / group * headSize;
                var scores = new double[seen];
                for (int p = 0; p < seen; p++)
                {
                    double dot = 0;
                    for (int i = 0; i < headSize; i++)
                        dot += (double)q[t * dim + h * headSize + i] * cache.KeyAt(layer, p)[kv + i];
                    scores[p] = dot / Math.Sqrt(headSize);
                }
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int i = 0; i < headSize; i++)
                {
                    double expected = 0;
                    for (int p = 0; p < seen; p++)
                        expected += Math.Exp(scores[p] - max) / sum * cache.ValueAt(layer, p)[kv + i];
                    float actual = output[t * dim + h * headSize + i];
                    Assert.True(Math.Abs(actual - expected) <= 1e-4, $"token {t} head {h} value {i}: {actual}, reference {expected}");
                }
            }
    }
}
