using System.Runtime.Intrinsics;
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
        if (T >= BlockedMinTokens && BlockedAttention.IsSupported(c.HeadSize))
        {
            CausalBlocked(output, q, cache, layer, start, T, c, pool);
            return;
        }
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

    /// <summary>From this many tokens on, query rows are processed in blocks (prefill).</summary>
    const int BlockedMinTokens = 8;

    [ThreadStatic] static float[]? t_keysTransposed;

    static unsafe void CausalBlocked(Span<float> output, ReadOnlySpan<float> q, KvCache cache, int layer, int start, int T, LlamaConfig c, ComputePool pool)
    {
        int total = start + T;
        int padded = BlockedAttention.PaddedPositions(total);
        if (t_keysTransposed is not { } kt || kt.Length < c.KvDim * padded)
            t_keysTransposed = kt = GC.AllocateUninitializedArray<float>(c.KvDim * padded, pinned: true);
        fixed (float* o = output)
        fixed (float* qp = q)
        fixed (float* keys = cache.Keys(layer, total))
        fixed (float* values = cache.Values(layer, total))
        fixed (float* keysT = kt)
        {
            BlockedAttention.TransposeKeys(keys, total, c.KvDim, keysT); // (kvDim, padded)
            var body = new BlockBody
            {
                Output = o, Q = qp, KeysT = keysT, Values = values, Padded = padded, Tokens = T,
                Start = start, Heads = c.Heads, HeadSize = c.HeadSize, KvDim = c.KvDim, Dim = c.Dim,
                Group = c.Heads / c.KvHeads, Scale = 1f / MathF.Sqrt(c.HeadSize),
            };
            int blocks = (T + BlockedAttention.Rows - 1) / BlockedAttention.Rows;
            pool.For(blocks * c.Heads, ref body);
        }
    }

    /// <summary>One work item: <see cref="BlockedAttention.Rows"/> consecutive query tokens of one head.</summary>
    unsafe struct BlockBody : IParallelBody
    {
        public float* Output, Q, KeysT, Values;
        public int Padded, Tokens, Start, Heads, HeadSize, KvDim, Dim, Group;
        public float Scale;

        [ThreadStatic] static float[]? s_scores;

        public void Execute(int begin, int end)
        {
            int need = BlockedAttention.Rows * Padded;
            if (s_scores is not { } scores || scores.Length < need)
                s_scores = scores = GC.AllocateUninitializedArray<float>(need, pinned: true);
            fixed (float* s = scores)
                for (int item = begin; item < end; item++)
                {
                    int h = item % Heads, t0 = item / Heads * BlockedAttention.Rows;
                    int rows = Math.Min(BlockedAttention.Rows, Tokens - t0);
                    int kv = h / Group * HeadSize;
                    BlockedAttention.CausalRows(Q + (long)t0 * Dim + h * HeadSize, Dim, rows, Start + t0 + 1,
                        KeysT + (long)kv * Padded, Padded, Values + kv, KvDim, HeadSize, Scale,
                        Output + (long)t0 * Dim + h * HeadSize, Dim, s);
                }
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
                float* query = Q + t * Dim + h * HeadSize;
                for (int p = 0; p < positions; p++)
                    scores[p] = HeadDot(query, Keys + (long)p * KvDim + kvOffset, HeadSize) * Scale;
                Ops.Softmax(scores);
                float* result = Output + t * Dim + h * HeadSize;
                new Span<float>(result, HeadSize).Clear();
                for (int p = 0; p < positions; p++)
                    HeadAxpy(result, scores[p], Values + (long)p * KvDim + kvOffset, HeadSize);
            }
        }
    }

    /// <summary>q·k over one head (64 or 128 values): inlined, because a general-purpose Dot's call overhead is
    /// larger than the work, and a decode step makes positions × heads × layers of these calls.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static unsafe float HeadDot(float* q, float* k, int n)
    {
        if (Vector256.IsHardwareAccelerated && n % 16 == 0)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (int i = 0; i < n; i += 16)
            {
                acc0 += Vector256.Load(q + i) * Vector256.Load(k + i);
                acc1 += Vector256.Load(q + i + 8) * Vector256.Load(k + i + 8);
            }
            return Vector256.Sum(acc0 + acc1);
        }
        return Ops.Dot(new ReadOnlySpan<float>(q, n), new ReadOnlySpan<float>(k, n));
    }

    /// <summary>y += a·x over one head.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static unsafe void HeadAxpy(float* y, float a, float* x, int n)
    {
        if (Vector256.IsHardwareAccelerated && n % 8 == 0)
        {
            var va = Vector256.Create(a);
            for (int i = 0; i < n; i += 8)
                (Vector256.Load(y + i) + va * Vector256.Load(x + i)).Store(y + i);
            return;
        }
        Ops.Axpy(new Span<float>(y, n), a, new ReadOnlySpan<float>(x, n));
    }
}
