using System.Numerics.Tensors;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Training;

public static unsafe partial class Differentiable
{
    /// <summary>Shapes of one causal self-attention call: <see cref="Batch"/> sequences of <see cref="Length"/> positions.</summary>
    public readonly record struct AttentionShape(int Batch, int Length, int Heads, int KvHeads, int HeadSize)
    {
        public int Rows => Batch * Length;
        public int QueryWidth => Heads * HeadSize;
        public int KvWidth => KvHeads * HeadSize;
        public int GroupSize => Heads / KvHeads;
        public float Scale => 1f / MathF.Sqrt(HeadSize);
    }

    /// <summary>
    /// o = softmax(q·kᵀ/√hs, causal)·v per sequence and head, query head h reading kv head h / (heads/kvHeads).
    /// q, o (rows, heads·hs); k, v (rows, kvHeads·hs); saves the log-sum-exp of every score row in
    /// <paramref name="lse"/> (batch, heads, length) so the backward pass recomputes the probabilities
    /// instead of storing (length × length) per head.
    /// </summary>
    public static void AttentionForward(Span<float> o, Span<float> lse, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape, ComputePool pool)
    {
        CheckAttention(o.Length, lse.Length, q.Length, k.Length, v.Length, shape);
        fixed (float* op = o, lp = lse, qp = q, kp = k, vp = v)
        {
            var body = new AttentionForwardBody { O = op, Lse = lp, Q = qp, K = kp, V = vp, Shape = shape, Pool = pool };
            pool.For(shape.Batch * shape.Heads, ref body);
        }
    }

    /// <summary>
    /// With P = softmax(S), S = q·kᵀ/√hs: dv += Pᵀ·do, dS = P ⊙ (do·vᵀ − rowsum(do ⊙ o)), dq = dS·k/√hs,
    /// dk += dSᵀ·q/√hs (summed over the query heads sharing a kv head). Overwrites dq, dk and dv.
    /// </summary>
    public static void AttentionBackward(Span<float> dq, Span<float> dk, Span<float> dv, ReadOnlySpan<float> dout, ReadOnlySpan<float> o, ReadOnlySpan<float> lse,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, AttentionShape shape, ComputePool pool)
    {
        CheckAttention(o.Length, lse.Length, q.Length, k.Length, v.Length, shape);
        CheckAttention(dout.Length, lse.Length, dq.Length, dk.Length, dv.Length, shape);
        fixed (float* dqp = dq, dkp = dk, dvp = dv, dop = dout, op = o, lp = lse, qp = q, kp = k, vp = v)
        {
            var body = new AttentionBackwardBody { DQ = dqp, DK = dkp, DV = dvp, DO = dop, O = op, Lse = lp, Q = qp, K = kp, V = vp, Shape = shape, Pool = pool };
            pool.For(shape.Batch * shape.KvHeads, ref body);
        }
    }

    static void CheckAttention(long o, long lse, long q, long k, long v, AttentionShape s)
    {
        if (s.Heads % s.KvHeads != 0)
            throw new ArgumentException($"{s.Heads} heads are not a multiple of {s.KvHeads} kv heads");
        if (o < (long)s.Rows * s.QueryWidth || q < (long)s.Rows * s.QueryWidth || k < (long)s.Rows * s.KvWidth || v < (long)s.Rows * s.KvWidth
            || lse < (long)s.Batch * s.Heads * s.Length)
            throw new ArgumentException($"attention buffers are too small for {s}");
    }

    /// <summary>
    /// Per-thread scratch of one (sequence, head) task: the head's q, k, v, o, do gathered into contiguous
    /// (length, hs) matrices, k and v also transposed, and three (length, length) score matrices.
    /// </summary>
    sealed class HeadScratch
    {
        public float[] Q = [], K = [], V = [], O = [], DO = [], KT = [], VT = [], Scores = [], Grad = [], Transposed = [];

        public static HeadScratch For(int length, int headSize)
        {
            var s = t_head ??= new HeadScratch();
            int matrix = length * headSize, square = length * length;
            if (s.Q.Length < matrix)
            {
                s.Q = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
                s.K = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
                s.V = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
                s.O = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
                s.DO = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
                s.KT = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
                s.VT = GC.AllocateUninitializedArray<float>(matrix, pinned: true);
            }
            if (s.Scores.Length < square)
            {
                s.Scores = GC.AllocateUninitializedArray<float>(square, pinned: true);
                s.Grad = GC.AllocateUninitializedArray<float>(square, pinned: true);
                s.Transposed = GC.AllocateUninitializedArray<float>(square, pinned: true);
            }
            return s;
        }
    }

    [ThreadStatic] static HeadScratch? t_head;

    /// <summary>Copies one head's (length, hs) slice out of a (rows, width) matrix, or back into it.</summary>
    static void Gather(float* matrix, int width, long firstRow, int column, float* head, int length, int headSize)
    {
        for (int t = 0; t < length; t++)
            new ReadOnlySpan<float>(matrix + (firstRow + t) * width + column, headSize).CopyTo(new Span<float>(head + (long)t * headSize, headSize));
    }

    static void Scatter(float* head, float* matrix, int width, long firstRow, int column, int length, int headSize, bool accumulate)
    {
        for (int t = 0; t < length; t++)
        {
            var source = new ReadOnlySpan<float>(head + (long)t * headSize, headSize);
            var target = new Span<float>(matrix + (firstRow + t) * width + column, headSize);
            if (accumulate)
                TensorPrimitives.Add(target, source, target);
            else
                source.CopyTo(target);
        }
    }

    /// <summary>
    /// P = softmax(scale·S) over the causal part of each row (j ≤ t), zeros above the diagonal. With
    /// <paramref name="lse"/> given, each row is exp(scale·s − lse[t]) (the backward pass's recomputation);
    /// otherwise the row's log-sum-exp is computed and stored into <paramref name="lseOut"/>.
    /// </summary>
    static void CausalSoftmax(float* scores, int length, float scale, float* lse, float* lseOut)
    {
        for (int t = 0; t < length; t++)
        {
            var row = new Span<float>(scores + (long)t * length, length);
            var causal = row[..(t + 1)];
            TensorPrimitives.Multiply(causal, scale, causal);
            if (lse != null)
            {
                TensorPrimitives.Subtract(causal, lse[t], causal);
                TensorPrimitives.Exp(causal, causal);
            }
            else
            {
                float max = TensorPrimitives.Max(causal);
                TensorPrimitives.Subtract(causal, max, causal);
                TensorPrimitives.Exp(causal, causal);
                float sum = TensorPrimitives.Sum(causal);
                TensorPrimitives.Multiply(causal, 1f / sum, causal);
                lseOut[t] = max + MathF.Log(sum);
            }
            row[(t + 1)..].Clear();
        }
    }

    /// <summary>
    /// Rows of the causal products go in bands: band [r0, r1) of a score matrix has nothing right of column r1,
    /// so each band multiplies only up to there, about half the work of the full square.
    /// </summary>
    const int CausalBand = 48;

    /// <summary>scores (L, L) = a (L, hs) · bT (hs, L) on and below the diagonal (band by band; entries right of a band's end are not written).</summary>
    static void CausalScores(float* a, float* bT, float* scores, int L, int hs, ComputePool pool)
    {
        for (int r0 = 0; r0 < L; r0 += CausalBand)
        {
            int r1 = Math.Min(L, r0 + CausalBand);
            DenseGemm.Multiply(a + (long)r0 * hs, hs, bT, L, scores + (long)r0 * L, L, r1 - r0, r1, hs, accumulate: false, pool);
        }
    }

    /// <summary>c (L, width) = lower (L, L) · b (L, width) for a lower-triangular matrix (zero right of the diagonal).</summary>
    static void LowerTimes(float* lower, float* b, int ldb, float* c, int ldc, int L, int width, ComputePool pool)
    {
        for (int r0 = 0; r0 < L; r0 += CausalBand)
        {
            int r1 = Math.Min(L, r0 + CausalBand);
            DenseGemm.Multiply(lower + (long)r0 * L, L, b, ldb, c + (long)r0 * ldc, ldc, r1 - r0, width, r1, accumulate: false, pool);
        }
    }

    /// <summary>c (L, width) (+)= upper (L, L) · b (L, width) for an upper-triangular matrix (zero left of the diagonal).</summary>
    static void UpperTimes(float* upper, float* b, int ldb, float* c, int ldc, int L, int width, bool accumulate, ComputePool pool)
    {
        for (int r0 = 0; r0 < L; r0 += CausalBand)
        {
            int r1 = Math.Min(L, r0 + CausalBand);
            DenseGemm.Multiply(upper + (long)r0 * L + r0, L, b + (long)r0 * ldb, ldb, c + (long)r0 * ldc, ldc, r1 - r0, width, L - r0, accumulate, pool);
        }
    }

    /// <summary>One task per (sequence, query head): S = q·kᵀ, P = causal softmax, o = P·v, as matrix products.</summary>
    struct AttentionForwardBody : IParallelBody
    {
        public float* O, Lse, Q, K, V;
        public AttentionShape Shape;
        public ComputePool Pool;

        public readonly void Execute(int start, int end)
        {
            var s = Shape;
            int L = s.Length, hs = s.HeadSize;
            var scratch = HeadScratch.For(L, hs);
            fixed (float* q = scratch.Q, k = scratch.K, v = scratch.V, o = scratch.O, kt = scratch.KT, scores = scratch.Scores)
                for (int task = start; task < end; task++)
                {
                    int b = task / s.Heads, h = task % s.Heads, kvh = h / s.GroupSize;
                    long first = (long)b * L;
                    Gather(Q, s.QueryWidth, first, h * hs, q, L, hs);
                    Gather(K, s.KvWidth, first, kvh * hs, k, L, hs);
                    Gather(V, s.KvWidth, first, kvh * hs, v, L, hs);
                    Transposition.Transpose(k, kt, L, hs);
                    CausalScores(q, kt, scores, L, hs, Pool);
                    CausalSoftmax(scores, L, s.Scale, null, Lse + ((long)b * s.Heads + h) * L);
                    LowerTimes(scores, v, hs, o, hs, L, hs, Pool);
                    Scatter(o, O, s.QueryWidth, first, h * hs, L, hs, accumulate: false);
                }
        }
    }

    /// <summary>
    /// One task per (sequence, kv head), covering the query heads that share it so that its dk and dv have one
    /// writer: P is recomputed from the saved log-sum-exp, then dP = do·vᵀ, dS = P ⊙ (dP − rowsum(do ⊙ o)),
    /// dq = dS·k·scale, dk += dSᵀ·q·scale, dv += Pᵀ·do.
    /// </summary>
    struct AttentionBackwardBody : IParallelBody
    {
        public float* DQ, DK, DV, DO, O, Lse, Q, K, V;
        public AttentionShape Shape;
        public ComputePool Pool;

        public readonly void Execute(int start, int end)
        {
            var s = Shape;
            int L = s.Length, hs = s.HeadSize;
            var scratch = HeadScratch.For(L, hs);
            fixed (float* q = scratch.Q, k = scratch.K, v = scratch.V, o = scratch.O, dout = scratch.DO, kt = scratch.KT, vt = scratch.VT,
                   probabilities = scratch.Scores, dscores = scratch.Grad, transposed = scratch.Transposed)
                for (int task = start; task < end; task++)
                {
                    int b = task / s.KvHeads, kvh = task % s.KvHeads;
                    long first = (long)b * L;
                    Gather(K, s.KvWidth, first, kvh * hs, k, L, hs);
                    Gather(V, s.KvWidth, first, kvh * hs, v, L, hs);
                    Transposition.Transpose(k, kt, L, hs);
                    Transposition.Transpose(v, vt, L, hs);
                    for (int h = kvh * s.GroupSize; h < (kvh + 1) * s.GroupSize; h++)
                    {
                        bool firstHead = h == kvh * s.GroupSize;
                        Gather(Q, s.QueryWidth, first, h * hs, q, L, hs);
                        Gather(O, s.QueryWidth, first, h * hs, o, L, hs);
                        Gather(DO, s.QueryWidth, first, h * hs, dout, L, hs);

                        CausalScores(q, kt, probabilities, L, hs, Pool);
                        CausalSoftmax(probabilities, L, s.Scale, Lse + ((long)b * s.Heads + h) * L, null);
                        CausalScores(dout, vt, dscores, L, hs, Pool); // dP
                        for (int t = 0; t < L; t++)
                        {
                            float rowDot = TensorPrimitives.Dot(new ReadOnlySpan<float>(dout + (long)t * hs, hs), new ReadOnlySpan<float>(o + (long)t * hs, hs));
                            var p = new ReadOnlySpan<float>(probabilities + (long)t * L, t + 1);
                            var ds = new Span<float>(dscores + (long)t * L, L);
                            TensorPrimitives.Subtract(ds[..(t + 1)], rowDot, ds[..(t + 1)]);
                            TensorPrimitives.Multiply(ds[..(t + 1)], p, ds[..(t + 1)]);
                            TensorPrimitives.Multiply(ds[..(t + 1)], s.Scale, ds[..(t + 1)]);
                            ds[(t + 1)..].Clear();
                        }
                        // dq = dS·k, written straight into the head's columns of dq (no other task touches them).
                        LowerTimes(dscores, k, hs, DQ + first * s.QueryWidth + h * hs, s.QueryWidth, L, hs, Pool);
                        // dk += dSᵀ·q and dv += Pᵀ·do, into the kv head's columns.
                        Transposition.Transpose(dscores, transposed, L, L);
                        UpperTimes(transposed, q, hs, DK + first * s.KvWidth + kvh * hs, s.KvWidth, L, hs, accumulate: !firstHead, Pool);
                        Transposition.Transpose(probabilities, transposed, L, L);
                        UpperTimes(transposed, dout, hs, DV + first * s.KvWidth + kvh * hs, s.KvWidth, L, hs, accumulate: !firstHead, Pool);
                    }
                }
        }
    }
}
