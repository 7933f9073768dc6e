using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Threading;

namespace Camelid.Model;

/// <summary>
/// Causal scaled dot-product attention over the KV cache, softmax(q·Kᵀ/√d)·V. With grouped-query attention,
/// query head h reads key/value head h / (heads / kvHeads). Decode takes one (token, key/value head) per work
/// item and runs the query heads of its group over the same chunk of cached positions while it is in L1, so
/// each key and value is read from memory once per step, not once per query head.
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
        // Token t of this sequence sees positions [0, start + t] of its cache.
        Span<RowContext> rows = T <= 64 ? stackalloc RowContext[T] : new RowContext[T];
        for (int t = 0; t < T; t++)
            rows[t] = new RowContext(cache.KeysOf(layer), cache.ValuesOf(layer), start + t + 1);
        RunHeads(output, q, rows, c, pool);
    }

    /// <summary>
    /// One decode step of several sequences: row i of <paramref name="q"/> is the next token of
    /// <paramref name="caches"/>[i] (already holding that token's key and value). One parallel loop over every
    /// (sequence, key/value head), each computed exactly as for the sequence alone.
    /// </summary>
    public static unsafe void DecodeStep(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<KvCache> caches, int layer, LlamaConfig c, ComputePool pool)
    {
        Span<RowContext> rows = caches.Length <= 64 ? stackalloc RowContext[caches.Length] : new RowContext[caches.Length];
        for (int i = 0; i < caches.Length; i++)
            rows[i] = new RowContext(caches[i].KeysOf(layer), caches[i].ValuesOf(layer), caches[i].Length + 1);
        RunHeads(output, q, rows, c, pool);
    }

    /// <summary>What one query row attends to: a layer's cached keys and values (pinned) and how many positions it sees.</summary>
    readonly unsafe struct RowContext(float* keys, float* values, int positions)
    {
        public readonly float* Keys = keys, Values = values;
        public readonly int Positions = positions;
    }

    static unsafe void RunHeads(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<RowContext> rows, LlamaConfig c, ComputePool pool)
    {
        fixed (float* o = output)
        fixed (float* qp = q)
        fixed (RowContext* contexts = rows)
        {
            var body = new HeadBody
            {
                Output = o, Q = qp, Rows = contexts,
                Heads = c.Heads, HeadSize = c.HeadSize, KvDim = c.KvDim, Dim = c.Dim,
                Group = c.Heads / c.KvHeads, Scale = 1f / MathF.Sqrt(c.HeadSize),
            };
            pool.For(rows.Length * c.KvHeads, ref body);
        }
    }

    /// <summary>Whether every query row of a prefill takes the decode path (one row's positions at a time), so its
    /// result does not depend on how the prompt was split: true unless the blocked prefill kernel applies.</summary>
    public static bool PrefillIsPerRow(int headSize) => !BlockedAttention.IsSupported(headSize);

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

    /// <summary>One work item: one query row's heads that share a key/value head.</summary>
    unsafe struct HeadBody : IParallelBody
    {
        public float* Output, Q;
        public RowContext* Rows;
        public int Heads, HeadSize, KvDim, Dim, Group;
        public float Scale;

        /// <summary>Cached positions a group's heads share while they are in L1. Positions sit a whole key/value row
        /// (kvDim floats, 1 KiB for TinyLlama) apart, so a head's slices of consecutive positions fall into few L1 sets:
        /// 64 of them overflowed those sets' ways and every head read the chunk from L2 again (measured 15% slower).</summary>
        const int ChunkPositions = 32;

        [ThreadStatic] static float[]? s_scores;

        public void Execute(int begin, int end)
        {
            int kvHeads = Heads / Group;
            float* sums = stackalloc float[Group]; // each query head's Σ e^(s − max)
            for (int item = begin; item < end; item++)
            {
                int t = item / kvHeads, kv = item % kvHeads;
                var row = Rows[t];
                int positions = row.Positions;
                float* keys = row.Keys, values = row.Values;
                int kvOffset = kv * HeadSize;
                int need = Group * positions;
                var all = s_scores is { } s && s.Length >= need ? s : s_scores = new float[Math.Max(need, 256)];
                float* query = Q + t * Dim + kv * Group * HeadSize;  // the group's heads are consecutive
                float* result = Output + t * Dim + kv * Group * HeadSize;
                fixed (float* scores = all)
                {
                    for (int p0 = 0; p0 < positions; p0 += ChunkPositions)
                    {
                        int p1 = Math.Min(positions, p0 + ChunkPositions);
                        for (int j = 0; j < Group; j++)
                            Scores(query + j * HeadSize, keys + kvOffset, KvDim, p0, p1, HeadSize, Scale, scores + j * positions);
                    }
                    // softmax(s)·V as (Σ_p e^(s_p − max)·v_p) / Σ_p e^(s_p − max): one pass for the exponentials and
                    // their sum, and the division on the head's outputs instead of on every weight.
                    for (int j = 0; j < Group; j++)
                        sums[j] = ExpShiftedByMax(scores + j * positions, positions);
                    new Span<float>(result, Group * HeadSize).Clear();
                    for (int p0 = 0; p0 < positions; p0 += ChunkPositions)
                    {
                        int p1 = Math.Min(positions, p0 + ChunkPositions);
                        for (int j = 0; j < Group; j++)
                            WeightedSum(result + j * HeadSize, scores + j * positions, values + kvOffset, KvDim, p0, p1, HeadSize);
                    }
                    for (int j = 0; j < Group; j++)
                        TensorPrimitives.Divide(new ReadOnlySpan<float>(result + j * HeadSize, HeadSize), sums[j], new Span<float>(result + j * HeadSize, HeadSize));
                }
            }
        }
    }

    /// <summary>
    /// scores[p] = q·k_p · scale for positions [p0, p1) of one head, four keys at a time (<see cref="Dot4"/>: the
    /// query is loaded once for four keys and one horizontal sum serves four scores); a leftover key goes through the
    /// same function in all four lanes, so every score is computed alike whichever keys it was computed beside.
    /// </summary>
    static unsafe void Scores(float* q, float* keys, int stride, int p0, int p1, int n, float scale, float* scores)
    {
        if (!Fma.IsSupported || n % 8 != 0)
        {
            for (int p = p0; p < p1; p++)
                scores[p] = HeadDot(q, keys + (long)p * stride, n) * scale;
            return;
        }
        int at = p0;
        for (; at + 4 <= p1; at += 4)
        {
            float* k = keys + (long)at * stride;
            (Dot4(q, k, k + stride, k + 2 * stride, k + 3 * stride, n) * scale).Store(scores + at);
        }
        for (; at < p1; at++)
        {
            float* k = keys + (long)at * stride;
            scores[at] = Dot4(q, k, k, k, k, n).ToScalar() * scale;
        }
    }

    /// <summary>x[p] = e^(x[p] − max x) in place; returns their sum.</summary>
    static unsafe float ExpShiftedByMax(float* x, int n)
    {
        var span = new Span<float>(x, n);
        float max = TensorPrimitives.Max(span);
        int p = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var shift = Vector256.Create(max);
            var total = Vector256<float>.Zero;
            for (; p + 8 <= n; p += 8)
            {
                var e = Vector256.Exp(Vector256.Load(x + p) - shift);
                e.Store(x + p);
                total += e;
            }
            sum = Vector256.Sum(total);
        }
        for (; p < n; p++)
            sum += x[p] = MathF.Exp(x[p] - max);
        return sum;
    }

    /// <summary>Lane r: q·k_r over one head, one fused accumulator per key, summed across lanes pairwise.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static unsafe Vector128<float> Dot4(float* q, float* k0, float* k1, float* k2, float* k3, int n)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < n; i += 8)
        {
            var qi = Vector256.Load(q + i);
            a0 = Fma.MultiplyAdd(qi, Vector256.Load(k0 + i), a0);
            a1 = Fma.MultiplyAdd(qi, Vector256.Load(k1 + i), a1);
            a2 = Fma.MultiplyAdd(qi, Vector256.Load(k2 + i), a2);
            a3 = Fma.MultiplyAdd(qi, Vector256.Load(k3 + i), a3);
        }
        // [a0 a1 a2 a3] sums of lanes 0..3 in the low half, of lanes 4..7 in the high half.
        var sums = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
        return sums.GetLower() + sums.GetUpper();
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

    /// <summary>
    /// y += Σ_{p0 ≤ p &lt; p1} w[p]·x[p·stride..] over one head, position by position as <see cref="HeadAxpy"/> would
    /// (same operations, same order), with each 64 values of y held in registers across the positions.
    /// </summary>
    static unsafe void WeightedSum(float* y, float* w, float* x, int stride, int p0, int p1, int n)
    {
        if (!Vector256.IsHardwareAccelerated || n % 64 != 0)
        {
            for (int p = p0; p < p1; p++)
                HeadAxpy(y, w[p], x + (long)p * stride, n);
            return;
        }
        for (int i = 0; i < n; i += 64)
        {
            float* yi = y + i;
            var y0 = Vector256.Load(yi); var y1 = Vector256.Load(yi + 8); var y2 = Vector256.Load(yi + 16); var y3 = Vector256.Load(yi + 24);
            var y4 = Vector256.Load(yi + 32); var y5 = Vector256.Load(yi + 40); var y6 = Vector256.Load(yi + 48); var y7 = Vector256.Load(yi + 56);
            for (int p = p0; p < p1; p++)
            {
                float* xi = x + (long)p * stride + i;
                var a = Vector256.Create(w[p]);
                y0 = MulAdd(a, Vector256.Load(xi), y0); y1 = MulAdd(a, Vector256.Load(xi + 8), y1);
                y2 = MulAdd(a, Vector256.Load(xi + 16), y2); y3 = MulAdd(a, Vector256.Load(xi + 24), y3);
                y4 = MulAdd(a, Vector256.Load(xi + 32), y4); y5 = MulAdd(a, Vector256.Load(xi + 40), y5);
                y6 = MulAdd(a, Vector256.Load(xi + 48), y6); y7 = MulAdd(a, Vector256.Load(xi + 56), y7);
            }
            y0.Store(yi); y1.Store(yi + 8); y2.Store(yi + 16); y3.Store(yi + 24);
            y4.Store(yi + 32); y5.Store(yi + 40); y6.Store(yi + 48); y7.Store(yi + 56);
        }
    }

    /// <summary>y += a·x over one head.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static unsafe void HeadAxpy(float* y, float a, float* x, int n)
    {
        if (Vector256.IsHardwareAccelerated && n % 8 == 0)
        {
            var va = Vector256.Create(a);
            for (int i = 0; i < n; i += 8)
                MulAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
            return;
        }
        Ops.Axpy(new Span<float>(y, n), a, new ReadOnlySpan<float>(x, n));
    }

    /// <summary>y + a·x, fused (one rounding) where the CPU has FMA.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> x, Vector256<float> y) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, x, y) : y + a * x;
}
