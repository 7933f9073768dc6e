using Camelid.Tensors.Kernels;
using Camelid.Tensors.Threading;

namespace Camelid.Model;

/// <summary>
/// Causal scaled dot-product attention over the KV cache, softmax(q·Kᵀ/√d)·V, one (token, head) pair
/// per work item. With grouped-query attention, query head h reads key/value head h / (heads / kvHeads).
/// </summary>
static class Attention
{
    /// <param name="output">(T, dim)</param>
    /// <param name="q">(T, dim), already rotated</param>
    /// <param name="cache">holds keys/values for positions [0, start + T) of this layer</param>
    public static unsafe void Causal(Span<float> output, ReadOnlySpan<float> q, KvCache cache, int layer, int start, int T, LlamaConfig c, ComputePool pool)
    {
        fixed (float* o = output)
        fixed (float* qp = q)
        fixed (float* keys = cache.Keys(layer, start + T))
        fixed (float* values = cache.Values(layer, start + T))
        {
            var body = new HeadBody
            {
                Output = o, Q = qp, Keys = keys, Values = values,
                Start = start, Heads = c.Heads, HeadSize = c.HeadSize, KvDim = c.KvDim, Dim = c.Dim,
                Group = c.Heads / c.KvHeads, Scale = 1f / MathF.Sqrt(c.HeadSize),
            };
            pool.For(T * c.Heads, ref body);
        }
    }

    unsafe struct HeadBody : IParallelBody
    {
        public float* Output, Q, Keys, Values;
        public int Start, Heads, HeadSize, KvDim, Dim, Group;
        public float Scale;

        [ThreadStatic] static float[]? s_scores;

        public void Execute(int begin, int end)
        {
            for (int item = begin; item < end; item++)
            {
                int t = item / Heads, h = item % Heads;
                int positions = Start + t + 1; // causal: this token sees itself and everything before
                int kvOffset = h / Group * HeadSize;
                var scores = (s_scores is { } s && s.Length >= positions ? s : s_scores = new float[Math.Max(positions, 256)]).AsSpan(0, positions);
                var query = new ReadOnlySpan<float>(Q + t * Dim + h * HeadSize, HeadSize);
                for (int p = 0; p < positions; p++)
                    scores[p] = Ops.Dot(query, new ReadOnlySpan<float>(Keys + p * KvDim + kvOffset, HeadSize)) * Scale;
                Ops.Softmax(scores);
                var result = new Span<float>(Output + t * Dim + h * HeadSize, HeadSize);
                result.Clear();
                for (int p = 0; p < positions; p++)
                    Ops.Axpy(result, scores[p], new ReadOnlySpan<float>(Values + p * KvDim + kvOffset, HeadSize));
            }
        }
    }
}
