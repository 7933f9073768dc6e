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
            var body = new AttentionForwardBody { O = op, Lse = lp, Q = qp, K = kp, V = vp, Shape = shape };
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
            var body = new AttentionBackwardBody { DQ = dqp, DK = dkp, DV = dvp, DO = dop, O = op, Lse = lp, Q = qp, K = kp, V = vp, Shape = shape };
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

    [ThreadStatic] static float[]? t_scores;

    struct AttentionForwardBody : IParallelBody
    {
        public float* O, Lse, Q, K, V;
        public AttentionShape Shape;

        public readonly void Execute(int start, int end)
        {
            var s = Shape;
            int hs = s.HeadSize, qw = s.QueryWidth, kw = s.KvWidth;
            if (t_scores == null || t_scores.Length < s.Length)
                t_scores = new float[s.Length];
            var scores = t_scores.AsSpan();
            for (int task = start; task < end; task++)
            {
                int b = task / s.Heads, h = task % s.Heads, kvh = h / s.GroupSize;
                long first = (long)b * s.Length;
                for (int t = 0; t < s.Length; t++)
                {
                    var query = new ReadOnlySpan<float>(Q + (first + t) * qw + h * hs, hs);
                    var p = scores[..(t + 1)];
                    for (int j = 0; j <= t; j++)
                        p[j] = TensorPrimitives.Dot(query, new ReadOnlySpan<float>(K + (first + j) * kw + kvh * hs, hs)) * s.Scale;
                    float max = TensorPrimitives.Max(p);
                    TensorPrimitives.Subtract(p, max, p);
                    TensorPrimitives.Exp(p, p);
                    float sum = TensorPrimitives.Sum(p);
                    var output = new Span<float>(O + (first + t) * qw + h * hs, hs);
                    output.Clear();
                    for (int j = 0; j <= t; j++)
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(V + (first + j) * kw + kvh * hs, hs), p[j] / sum, output, output);
                    Lse[((long)b * s.Heads + h) * s.Length + t] = max + MathF.Log(sum);
                }
            }
        }
    }

    struct AttentionBackwardBody : IParallelBody
    {
        public float* DQ, DK, DV, DO, O, Lse, Q, K, V;
        public AttentionShape Shape;

        public readonly void Execute(int start, int end)
        {
            var s = Shape;
            int hs = s.HeadSize, qw = s.QueryWidth, kw = s.KvWidth;
            for (int task = start; task < end; task++)
            {
                int b = task / s.KvHeads, kvh = task % s.KvHeads;
                long first = (long)b * s.Length;
                for (int j = 0; j < s.Length; j++)
                {
                    new Span<float>(DK + (first + j) * kw + kvh * hs, hs).Clear();
                    new Span<float>(DV + (first + j) * kw + kvh * hs, hs).Clear();
                }
                for (int h = kvh * s.GroupSize; h < (kvh + 1) * s.GroupSize; h++)
                    for (int t = 0; t < s.Length; t++)
                    {
                        long queryRow = (first + t) * qw + h * hs;
                        var query = new ReadOnlySpan<float>(Q + queryRow, hs);
                        var upstream = new ReadOnlySpan<float>(DO + queryRow, hs);
                        float rowLse = Lse[((long)b * s.Heads + h) * s.Length + t];
                        float rowDot = TensorPrimitives.Dot(upstream, new ReadOnlySpan<float>(O + queryRow, hs));
                        var dquery = new Span<float>(DQ + queryRow, hs);
                        dquery.Clear();
                        for (int j = 0; j <= t; j++)
                        {
                            long keyRow = (first + j) * kw + kvh * hs;
                            var key = new ReadOnlySpan<float>(K + keyRow, hs);
                            float p = MathF.Exp(TensorPrimitives.Dot(query, key) * s.Scale - rowLse);
                            float dp = TensorPrimitives.Dot(upstream, new ReadOnlySpan<float>(V + keyRow, hs));
                            float dscore = p * (dp - rowDot) * s.Scale;
                            TensorPrimitives.MultiplyAdd(key, dscore, dquery, dquery);
                            var dkey = new Span<float>(DK + keyRow, hs);
                            TensorPrimitives.MultiplyAdd(query, dscore, dkey, dkey);
                            var dvalue = new Span<float>(DV + keyRow, hs);
                            TensorPrimitives.MultiplyAdd(upstream, p, dvalue, dvalue);
                        }
                    }
            }
        }
    }
}
