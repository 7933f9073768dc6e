using Camelid.Tensors.Threading;
using Camelid.Tensors.Training;
using Xunit.Abstractions;
using static Camelid.Tensors.Tests.Training.GradientCheck;

namespace Camelid.Tensors.Tests.Training;

/// <summary>
/// The forward kernels against their double twins, including what they save for the backward pass (rstd,
/// log-sum-exp). Tolerance: 1e-5 of the largest expected value, the size of f32 rounding over sums of a few
/// hundred terms.
/// </summary>
public sealed class DifferentiableForwardTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-5;

    [Theory]
    [InlineData(1, 5, 3, 1)]
    [InlineData(9, 37, 33, 2)]
    [InlineData(7, 1, 40, 1)]
    [InlineData(20, 150, 70, 1)]
    [InlineData(20, 150, 70, 2)]
    public void LinearForward_MatchesDoubleReference(int T, int inFeatures, int outFeatures, int threads)
    {
        var rng = new Random(T * 1000 + inFeatures + threads);
        float[] x = TestData.Gaussian(rng, T * inFeatures), w = TestData.Gaussian(rng, outFeatures * inFeatures, 0.1f);
        float[] y = Enumerable.Repeat(float.NaN, T * outFeatures).ToArray();

        using var pool = new ComputePool(threads);
        Differentiable.LinearForward(y, x, w, T, inFeatures, outFeatures, pool);

        AssertClose(output, $"y ({T}×{inFeatures} → {outFeatures})", y,
            DoubleReference.Linear(ToDouble(x), ToDouble(w), T, inFeatures, outFeatures), Tolerance);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(67)]
    public void RmsNormForward_MatchesDoubleReferenceAndSavesRstd(int dim)
    {
        const int T = 4;
        const float eps = 1e-5f;
        var rng = new Random(100 + dim);
        float[] x = TestData.Gaussian(rng, T * dim, 2f);
        float[] g = TestData.Gaussian(rng, dim, 0.3f).Select(d => 1 + d).ToArray();
        float[] y = new float[T * dim], rstd = new float[T];

        Differentiable.RmsNormForward(y, rstd, x, g, T, dim, eps);

        var (expectedY, expectedRstd) = DoubleReference.RmsNorm(ToDouble(x), ToDouble(g), T, dim, eps);
        AssertClose(output, $"y (dim {dim})", y, expectedY, Tolerance);
        AssertClose(output, $"rstd (dim {dim})", rstd, expectedRstd, Tolerance);
    }

    [Fact]
    public void SwiGluForward_MatchesDoubleReference()
    {
        var rng = new Random(110);
        float[] gate = [.. TestData.Gaussian(rng, 62, 3f), -100f, -20f, 0f, 20f, 100f];
        float[] up = TestData.Gaussian(rng, gate.Length), h = new float[gate.Length];

        Differentiable.SwiGluForward(h, gate, up);

        AssertClose(output, "h", h, DoubleReference.SwiGlu(ToDouble(gate), ToDouble(up)), Tolerance);
    }

    /// <summary>
    /// The kernel reads its angles from <see cref="Differentiable.RotaryTable"/>; the reference computes
    /// cos and sin of position·θᵢ directly in double, so this also checks the table.
    /// </summary>
    [Fact]
    public void RotaryForward_MatchesDirectFormula()
    {
        const int batch = 2, length = 40, heads = 2, headSize = 16;
        int rows = batch * length, half = headSize / 2;
        var rng = new Random(120);
        double[] frequencies = DoubleReference.RotaryFrequencies(headSize);
        var (cos, sin) = Differentiable.RotaryTable(length, frequencies.Select(f => (float)f).ToArray());
        float[] x = TestData.Gaussian(rng, rows * heads * headSize);
        float[] y = (float[])x.Clone();

        Differentiable.RotaryForward(y, rows, length, heads, headSize, cos, sin);

        var directCos = new double[length * half];
        var directSin = new double[length * half];
        for (int p = 0; p < length; p++)
            for (int i = 0; i < half; i++)
            {
                directCos[p * half + i] = Math.Cos(p * frequencies[i]);
                directSin[p * half + i] = Math.Sin(p * frequencies[i]);
            }
        AssertClose(output, "rotated x", y, DoubleReference.Rotary(ToDouble(x), rows, length, heads, headSize, directCos, directSin), Tolerance);
    }

    [Theory]
    [InlineData(2, 7, 6, 2, 8, 1)]
    [InlineData(2, 7, 6, 2, 8, 2)]
    [InlineData(2, 7, 4, 4, 8, 2)]
    [InlineData(1, 33, 2, 1, 16, 1)]
    [InlineData(2, 130, 4, 2, 8, 2)]
    [InlineData(3, 1, 2, 2, 4, 2)]
    public void AttentionForward_MatchesDoubleReferenceAndSavesLogSumExp(int batch, int length, int heads, int kvHeads, int headSize, int threads)
    {
        var shape = new Differentiable.AttentionShape(batch, length, heads, kvHeads, headSize);
        var rng = new Random(130 + length + 10 * heads + kvHeads + threads);
        float[] q = TestData.Gaussian(rng, shape.Rows * shape.QueryWidth);
        float[] k = TestData.Gaussian(rng, shape.Rows * shape.KvWidth);
        float[] v = TestData.Gaussian(rng, shape.Rows * shape.KvWidth);
        float[] o = Enumerable.Repeat(float.NaN, q.Length).ToArray(), lse = new float[batch * heads * length];

        using var pool = new ComputePool(threads);
        Differentiable.AttentionForward(o, lse, q, k, v, shape, pool);

        var (expectedO, expectedLse) = DoubleReference.Attention(ToDouble(q), ToDouble(k), ToDouble(v), shape);
        string label = $"batch {batch}, length {length}, {heads}/{kvHeads} heads of {headSize}";
        AssertClose(output, $"o ({label})", o, expectedO, Tolerance);
        AssertClose(output, $"lse ({label})", lse, expectedLse, Tolerance);
    }

    [Fact]
    public void EmbeddingForward_CopiesRowsAndRejectsOutOfRangeIds()
    {
        const int vocab = 5, dim = 9;
        int[] tokens = [4, 0, 4, 2];
        float[] table = TestData.Gaussian(new Random(140), vocab * dim), x = new float[tokens.Length * dim];

        Differentiable.EmbeddingForward(x, tokens, table, dim);

        Assert.Equal(DoubleReference.Embedding(tokens, ToDouble(table), dim), ToDouble(x));
        Assert.Throws<ArgumentOutOfRangeException>(() => Differentiable.EmbeddingForward(x, [1, vocab], table, dim));
        Assert.Throws<ArgumentOutOfRangeException>(() => Differentiable.EmbeddingForward(x, [-1], table, dim));
    }

    /// <summary>Element-wise kernels split into chunks over the pool give exactly what one thread gives (chunk edges included).</summary>
    [Fact]
    public void SwiGlu_split_over_the_pool_is_bit_identical_to_one_thread()
    {
        const int n = 3 * (1 << 16) + 17;
        var rng = new Random(5);
        float[] gate = TestData.Gaussian(rng, n), up = TestData.Gaussian(rng, n), dh = TestData.Gaussian(rng, n);
        float[] h1 = new float[n], h2 = new float[n], dg1 = new float[n], dg2 = new float[n], du1 = new float[n], du2 = new float[n];
        using var pool = new ComputePool(2);
        Differentiable.SwiGluForward(h1, gate, up);
        Differentiable.SwiGluForward(h2, gate, up, pool);
        Differentiable.SwiGluBackward(dg1, du1, dh, gate, up);
        Differentiable.SwiGluBackward(dg2, du2, dh, gate, up, pool);
        Assert.Equal(h1, h2);
        Assert.Equal(dg1, dg2);
        Assert.Equal(du1, du2);
        Assert.Contains(h2, value => value != 0);
    }
}
