using Camelid.Tensors.Threading;
using Camelid.Tensors.Training;
using Xunit.Abstractions;
using static Camelid.Tensors.Tests.Training.GradientCheck;

namespace Camelid.Tensors.Tests.Training;

/// <summary>
/// Every backward kernel against central finite differences of its forward op's double twin. The objective
/// is L = Σ rᵢ·yᵢ for a fixed random r, so the kernel is handed dy = r and must return ∂L/∂input and
/// ∂L/∂parameter. The numeric gradient is good to ~1e-9 and the kernels run in f32, so the tolerance,
/// 1e-3 of the largest gradient, leaves room for f32 rounding but not for a wrong term or a missed index.
/// </summary>
public sealed class DifferentiableGradientTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-3;

    static float[] Filled(int length, float value) => Enumerable.Repeat(value, length).ToArray();

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void LinearBackward_MatchesFiniteDifferences(int threads, bool accumulateInput)
    {
        const int T = 9, inFeatures = 37, outFeatures = 33;
        var rng = new Random(10 + 2 * threads + (accumulateInput ? 1 : 0));
        float[] x = TestData.Gaussian(rng, T * inFeatures);
        float[] w = TestData.Gaussian(rng, outFeatures * inFeatures, 0.2f);
        float[] r = TestData.Gaussian(rng, T * outFeatures);
        // Without accumulation dx must be written, never read: NaN there would show through.
        float[] dxBefore = accumulateInput ? TestData.Gaussian(rng, T * inFeatures) : Filled(T * inFeatures, float.NaN);
        float[] dwBefore = TestData.Gaussian(rng, w.Length);
        float[] dx = (float[])dxBefore.Clone(), dw = (float[])dwBefore.Clone();

        using var pool = new ComputePool(threads);
        Differentiable.LinearBackward(dx, dw, r, x, w, T, inFeatures, outFeatures, pool, accumulateInput);

        double[] xd = ToDouble(x), wd = ToDouble(w);
        double Objective() => Weighted(DoubleReference.Linear(xd, wd, T, inFeatures, outFeatures), r);
        AssertClose(output, accumulateInput ? "dx added to a nonzero dx" : "dx", accumulateInput ? Added(dx, dxBefore) : ToDouble(dx),
            Numeric(xd, Objective), Tolerance);
        AssertClose(output, "dW added to a nonzero dW", Added(dw, dwBefore), Numeric(wd, Objective), Tolerance);
    }

    [Fact]
    public void LinearBackward_WithFrozenWeight_GivesOnlyTheInputGradient()
    {
        const int T = 6, inFeatures = 35, outFeatures = 40;
        var rng = new Random(20);
        float[] x = TestData.Gaussian(rng, T * inFeatures);
        float[] w = TestData.Gaussian(rng, outFeatures * inFeatures, 0.2f);
        float[] r = TestData.Gaussian(rng, T * outFeatures);
        float[] dx = Filled(T * inFeatures, float.NaN);

        using var pool = new ComputePool(2);
        Differentiable.LinearBackward(dx, Span<float>.Empty, r, x, w, T, inFeatures, outFeatures, pool);

        double[] xd = ToDouble(x), wd = ToDouble(w);
        AssertClose(output, "dx (frozen W)", dx,
            Numeric(xd, () => Weighted(DoubleReference.Linear(xd, wd, T, inFeatures, outFeatures), r)), Tolerance);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RmsNormBackward_MatchesFiniteDifferences(bool withGainGradient)
    {
        const int T = 5, dim = 19;
        const float eps = 1e-5f;
        var rng = new Random(30 + (withGainGradient ? 1 : 0));
        float[] x = TestData.Gaussian(rng, T * dim);
        float[] g = TestData.Gaussian(rng, dim, 0.3f).Select(d => 1 + d).ToArray();
        float[] r = TestData.Gaussian(rng, T * dim);
        float[] y = new float[T * dim], rstd = new float[T];
        Differentiable.RmsNormForward(y, rstd, x, g, T, dim, eps);
        float[] dxBefore = TestData.Gaussian(rng, T * dim), dgBefore = TestData.Gaussian(rng, dim);
        float[] dx = (float[])dxBefore.Clone(), dg = (float[])dgBefore.Clone();

        Differentiable.RmsNormBackward(dx, withGainGradient ? dg : Span<float>.Empty, r, rstd, x, g, T, dim);

        double[] xd = ToDouble(x), gd = ToDouble(g);
        double Objective() => Weighted(DoubleReference.RmsNorm(xd, gd, T, dim, eps).Y, r);
        AssertClose(output, "dx added to a nonzero dx", Added(dx, dxBefore), Numeric(xd, Objective), Tolerance);
        if (withGainGradient)
            AssertClose(output, "dg added to a nonzero dg", Added(dg, dgBefore), Numeric(gd, Objective), Tolerance);
    }

    [Fact]
    public void SwiGluBackward_MatchesFiniteDifferences()
    {
        const int n = 67;
        var rng = new Random(40);
        float[] gate = TestData.Gaussian(rng, n, 3f), up = TestData.Gaussian(rng, n), r = TestData.Gaussian(rng, n);
        float[] dgate = Filled(n, float.NaN), dup = Filled(n, float.NaN);

        Differentiable.SwiGluBackward(dgate, dup, r, gate, up);

        double[] gated = ToDouble(gate), upd = ToDouble(up);
        double Objective() => Weighted(DoubleReference.SwiGlu(gated, upd), r);
        AssertClose(output, "dgate", dgate, Numeric(gated, Objective), Tolerance);
        AssertClose(output, "dup", dup, Numeric(upd, Objective), Tolerance);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(2, 8)]
    public void RotaryBackward_MatchesFiniteDifferences(int batch, int length)
    {
        const int heads = 3, headSize = 8;
        int rows = batch * length;
        var rng = new Random(50 + length);
        var frequencies = DoubleReference.RotaryFrequencies(headSize).Select(f => (float)f).ToArray();
        var (cos, sin) = Differentiable.RotaryTable(length, frequencies);
        float[] x = TestData.Gaussian(rng, rows * heads * headSize), r = TestData.Gaussian(rng, x.Length);
        float[] dx = (float[])r.Clone();

        Differentiable.RotaryBackward(dx, rows, length, heads, headSize, cos, sin);

        double[] xd = ToDouble(x), cosd = ToDouble(cos), sind = ToDouble(sin);
        AssertClose(output, $"dx (batch {batch}, length {length})", dx,
            Numeric(xd, () => Weighted(DoubleReference.Rotary(xd, rows, length, heads, headSize, cosd, sind), r)), Tolerance);
    }

    [Theory]
    [InlineData(6, 2, 1)]
    [InlineData(6, 2, 2)]
    [InlineData(4, 4, 2)]
    [InlineData(3, 1, 1)]
    [InlineData(2, 1, 2, 1, 100, 4)] // longer than one causal band of 48 rows: the banded products and their tail
    public void AttentionBackward_MatchesFiniteDifferences(int heads, int kvHeads, int threads, int batch = 2, int length = 7, int headSize = 8)
    {
        var shape = new Differentiable.AttentionShape(batch, length, heads, kvHeads, headSize);
        var rng = new Random(60 + 10 * heads + kvHeads + threads + length);
        float[] q = TestData.Gaussian(rng, shape.Rows * shape.QueryWidth);
        float[] k = TestData.Gaussian(rng, shape.Rows * shape.KvWidth);
        float[] v = TestData.Gaussian(rng, shape.Rows * shape.KvWidth);
        float[] r = TestData.Gaussian(rng, q.Length);
        float[] o = new float[q.Length], lse = new float[shape.Batch * shape.Heads * shape.Length];
        using var pool = new ComputePool(threads);
        Differentiable.AttentionForward(o, lse, q, k, v, shape, pool);
        // The kernel overwrites its gradients; stale values must not leak into them.
        float[] dq = Filled(q.Length, 7f), dk = Filled(k.Length, 7f), dv = Filled(v.Length, 7f);

        Differentiable.AttentionBackward(dq, dk, dv, r, o, lse, q, k, v, shape, pool);

        double[] qd = ToDouble(q), kd = ToDouble(k), vd = ToDouble(v);
        double Objective() => Weighted(DoubleReference.Attention(qd, kd, vd, shape).O, r);
        AssertClose(output, $"dq ({heads}/{kvHeads} heads)", dq, Numeric(qd, Objective), Tolerance);
        AssertClose(output, $"dk ({heads}/{kvHeads} heads)", dk, Numeric(kd, Objective), Tolerance);
        AssertClose(output, $"dv ({heads}/{kvHeads} heads)", dv, Numeric(vd, Objective), Tolerance);
    }

    [Fact]
    public void EmbeddingBackward_AccumulatesRepeatedTokens()
    {
        const int vocab = 7, dim = 11;
        int[] tokens = [3, 1, 3, 0, 3, 5, 1];
        var rng = new Random(70);
        float[] table = TestData.Gaussian(rng, vocab * dim), r = TestData.Gaussian(rng, tokens.Length * dim);
        float[] dtableBefore = TestData.Gaussian(rng, vocab * dim);
        float[] dtable = (float[])dtableBefore.Clone();

        Differentiable.EmbeddingBackward(dtable, tokens, r, dim);

        double[] tabled = ToDouble(table);
        AssertClose(output, "dE added to a nonzero dE", Added(dtable, dtableBefore),
            Numeric(tabled, () => Weighted(DoubleReference.Embedding(tokens, tabled, dim), r)), Tolerance);
        foreach (int unused in new[] { 2, 4, 6 })
            Assert.Equal(dtableBefore.AsSpan(unused * dim, dim).ToArray(), dtable.AsSpan(unused * dim, dim).ToArray());
    }

    [Fact]
    public void CrossEntropyForwardBackward_MatchesDoubleLossAndItsFiniteDifferences()
    {
        const int vocab = 23;
        int[] targets = [4, -1, 0, 22, -100, 7];
        const float scale = 0.25f; // 1 / the four counted targets, the trainer's mean over tokens
        var rng = new Random(80);
        float[] logits = TestData.Gaussian(rng, targets.Length * vocab, 2f);
        // exp(100) overflows f32: this row only works if the kernel subtracts its max first.
        for (int i = 3 * vocab; i < 4 * vocab; i++)
            logits[i] += 100;
        float[] gradient = (float[])logits.Clone();

        double loss = Differentiable.CrossEntropyForwardBackward(gradient, targets, vocab, scale);

        double[] logitsd = ToDouble(logits);
        double expectedLoss = DoubleReference.CrossEntropyLosses(logitsd, targets, vocab).Sum();
        output.WriteLine($"loss {loss:R}, double reference {expectedLoss:R}, |diff| {Math.Abs(loss - expectedLoss):g3}");
        Assert.True(Math.Abs(loss - expectedLoss) <= 1e-5 * expectedLoss, $"loss {loss:R}, expected {expectedLoss:R}");
        AssertClose(output, "dlogits of scale·loss", gradient,
            Numeric(logitsd, () => scale * DoubleReference.CrossEntropyLosses(logitsd, targets, vocab).Sum()), Tolerance);
        for (int t = 0; t < targets.Length; t++)
            if (targets[t] < 0)
                Assert.All(gradient.AsSpan(t * vocab, vocab).ToArray(), value => Assert.Equal(0f, value));
    }
}
