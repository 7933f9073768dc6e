using Camelid.Tensors.Kernels;
using Camelid.Tensors.Reference;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests;

/// <summary>Every Ops kernel against its scalar twin in ReferenceOps for every length 0..257, so each
/// vector width and every tail runs. Tolerances are relative to the size of the terms and stated per test.</summary>
public class OpsTests(ITestOutputHelper output)
{
    const int MaxLength = 257;

    static void AssertClose(float expected, float actual, double tol, string what)
    {
        if (float.IsNaN(expected) || float.IsNaN(actual))
        {
            Assert.True(float.IsNaN(expected) && float.IsNaN(actual), $"{what}: expected {expected}, got {actual}");
            return;
        }
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected}, got {actual} (tolerance {tol})");
    }

    [Fact]
    public void RmsNorm_MatchesTwin()
    {
        var rng = new Random(1);
        double worst = 0;
        for (int n = 0; n <= MaxLength; n++)
        {
            var x = TestData.Gaussian(rng, n, 3f);
            var w = TestData.Gaussian(rng, n);
            var fast = new float[n];
            var slow = new float[n];
            Ops.RmsNorm(fast, x, w, 1e-5f);
            ReferenceOps.RmsNorm(slow, x, w, 1e-5f);
            for (int i = 0; i < n; i++)
            {
                worst = Math.Max(worst, Math.Abs(fast[i] - slow[i]) / (Math.Abs(slow[i]) + 1e-6));
                AssertClose(slow[i], fast[i], 2e-6 * Math.Abs(slow[i]) + 1e-7, $"n={n} i={i}"); // relative 2e-6
            }
        }
        output.WriteLine($"RmsNorm: max relative error {worst:E2} (tolerance 2e-6)");
    }

    [Fact]
    public void Softmax_MatchesTwinIncludingLargeAndMaskedLogits()
    {
        var rng = new Random(2);
        double worst = 0;
        for (int n = 1; n <= MaxLength; n++)
        {
            var x = TestData.Gaussian(rng, n, 20f);
            x[rng.Next(n)] += 500f; // would overflow exp without subtracting the max
            if (n > 2) { x[0] = float.NegativeInfinity; x[n / 2] = float.NegativeInfinity; }
            var fast = (float[])x.Clone();
            var slow = (float[])x.Clone();
            Ops.Softmax(fast);
            ReferenceOps.Softmax(slow);
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                worst = Math.Max(worst, Math.Abs(fast[i] - slow[i]));
                AssertClose(slow[i], fast[i], 1e-6 * slow[i] + 1e-7, $"n={n} i={i}"); // relative 1e-6, absolute 1e-7
                sum += fast[i];
            }
            Assert.InRange(sum, 1 - 1e-5, 1 + 1e-5);
            if (n > 2) Assert.Equal(0f, fast[0]);
        }
        Ops.Softmax(Span<float>.Empty);
        output.WriteLine($"Softmax: max absolute error {worst:E2}");
    }

    [Fact]
    public void Softmax_NaNPoisonsAllAndAllMaskedThrows()
    {
        var x = new float[] { 1, float.NaN, 2 };
        Ops.Softmax(x);
        Assert.All(x, v => Assert.True(float.IsNaN(v)));
        Assert.Throws<ArgumentException>(() => Ops.Softmax(new[] { float.NegativeInfinity, float.NegativeInfinity }));
        var one = new[] { -1e30f };
        Ops.Softmax(one);
        Assert.Equal(1f, one[0]);
    }

    [Fact]
    public void SwiGlu_MatchesTwin()
    {
        var rng = new Random(3);
        double worst = 0;
        for (int n = 0; n <= MaxLength; n++)
        {
            var gate = TestData.Gaussian(rng, n, 4f);
            if (n > 3) { gate[1] = 90f; gate[2] = -90f; } // exp overflow / underflow
            var up = TestData.Gaussian(rng, n);
            var fast = (float[])gate.Clone();
            var slow = (float[])gate.Clone();
            Ops.SwiGlu(fast, up);
            ReferenceOps.SwiGlu(slow, up);
            for (int i = 0; i < n; i++)
            {
                worst = Math.Max(worst, Math.Abs(fast[i] - slow[i]) / (Math.Abs(slow[i]) + 1e-6));
                AssertClose(slow[i], fast[i], 4e-6 * Math.Abs(slow[i]) + 1e-7, $"n={n} i={i}"); // relative 4e-6
            }
        }
        output.WriteLine($"SwiGlu: max relative error {worst:E2} (tolerance 4e-6)");
    }

    [Fact]
    public void RopeInterleaved_MatchesTwinAndRotatesTheRightPairs()
    {
        var rng = new Random(4);
        double worst = 0;
        foreach (int headSize in new[] { 0, 2, 6, 16, 64, 128 })
            foreach (int nHeads in new[] { 1, 3 })
                foreach (int pos in new[] { 0, 1, 7, 511, 4095 })
                {
                    var invFreq = new float[headSize / 2];
                    for (int i = 0; i < invFreq.Length; i++) invFreq[i] = 1f / MathF.Pow(10000f, 2f * i / headSize);
                    var x = TestData.Gaussian(rng, nHeads * headSize);
                    var fast = (float[])x.Clone();
                    var slow = (float[])x.Clone();
                    Ops.RopeInterleaved(fast, nHeads, headSize, pos, invFreq);
                    ReferenceOps.RopeInterleaved(slow, nHeads, headSize, pos, invFreq);
                    for (int i = 0; i < x.Length; i++)
                    {
                        worst = Math.Max(worst, Math.Abs(fast[i] - slow[i]));
                        AssertClose(slow[i], fast[i], 2e-6 * (Math.Abs(x[i]) + Math.Abs(x[i ^ 1])) + 1e-7, $"head {headSize} pos {pos} i={i}");
                    }
                }
        // Hand-computed: one head (1, 0, 0, 1), pos 1, invFreq (π/2, 0): first pair rotates by 90°.
        var v = new[] { 1f, 0f, 0f, 1f };
        Ops.RopeInterleaved(v, 1, 4, 1, new[] { MathF.PI / 2, 0f });
        Assert.Equal(0f, v[0], 6);
        Assert.Equal(1f, v[1], 6);
        Assert.Equal(0f, v[2]);
        Assert.Equal(1f, v[3]);
        output.WriteLine($"Rope: max absolute error {worst:E2}");
        Assert.Throws<ArgumentException>(() => Ops.RopeInterleaved(new float[8], 2, 4, 0, new float[1]));
        Assert.Throws<ArgumentException>(() => Ops.RopeInterleaved(new float[8], 2, 5, 0, new float[3]));
    }

    [Fact]
    public void DotAddAxpyScale_MatchTwins()
    {
        var rng = new Random(5);
        for (int n = 0; n <= MaxLength; n++)
        {
            var a = TestData.Gaussian(rng, n);
            var b = TestData.Gaussian(rng, n);
            double abs = 0;
            for (int i = 0; i < n; i++) abs += Math.Abs(a[i] * b[i]);
            AssertClose(ReferenceOps.Dot(a, b), Ops.Dot(a, b), 1e-6 * abs + 1e-7, $"dot n={n}"); // 1e-6 of Σ|a·b|

            var x1 = (float[])a.Clone(); var x2 = (float[])a.Clone();
            Ops.Add(x1, b); ReferenceOps.Add(x2, b);
            Assert.Equal(x2, x1); // one rounding each: identical

            var y1 = (float[])a.Clone(); var y2 = (float[])a.Clone();
            Ops.Axpy(y1, 0.37f, b); ReferenceOps.Axpy(y2, 0.37f, b);
            for (int i = 0; i < n; i++)
                AssertClose(y2[i], y1[i], 2e-7 * (Math.Abs(a[i]) + Math.Abs(0.37f * b[i])), $"axpy n={n} i={i}");

            var s1 = (float[])a.Clone(); var s2 = (float[])a.Clone();
            Ops.Scale(s1, -1.5f); ReferenceOps.Scale(s2, -1.5f);
            Assert.Equal(s2, s1);
        }
        Assert.Throws<ArgumentException>(() => Ops.Dot(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => Ops.Add(new float[3], new float[4]));
    }

    [Fact]
    public void Argmax_MatchesTwinWithNaNsTiesAndInfinities()
    {
        var rng = new Random(6);
        for (int n = 1; n <= MaxLength; n++)
        {
            for (int trial = 0; trial < 4; trial++)
            {
                var x = new float[n];
                for (int i = 0; i < n; i++) x[i] = rng.Next(0, 5); // many ties
                if (trial >= 1) for (int k = 0; k < n / 3; k++) x[rng.Next(n)] = float.NaN;
                if (trial == 2) x[rng.Next(n)] = float.PositiveInfinity;
                if (trial == 3) for (int i = 0; i < n; i++) if (!float.IsNaN(x[i])) x[i] = float.NegativeInfinity;
                Assert.Equal(ReferenceOps.Argmax(x), Ops.Argmax(x));
            }
        }
        Assert.Equal(2, Ops.Argmax(new[] { float.NaN, 1f, 3f, 3f, float.NaN }));
        Assert.Equal(0, Ops.Argmax(new[] { float.NaN, float.NaN }));
        Assert.Equal(0, Ops.Argmax(new[] { -0f, 0f }));
        var big = new float[1000];
        big[999] = 1; big[17] = float.NaN;
        Assert.Equal(999, Ops.Argmax(big));
        Assert.Throws<ArgumentException>(() => Ops.Argmax(ReadOnlySpan<float>.Empty));
    }
}
