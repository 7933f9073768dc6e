using Camelid.Tensors.Threading;
using Camelid.Tensors.Training;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests.Training;

/// <summary>
/// DenseGemm against a naive double triple loop, with every leading stride wider than its matrix and C
/// surrounded by guard values, so a read of padding or a write outside the (m, n) window shows. Tolerance:
/// 1e-6·(k·max|a|·max|b| + max|c₀|), f32 rounding of a k-term sum onto the initial C.
/// </summary>
public sealed unsafe class DenseGemmTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-6;
    const int Guard = 40;

    /// <summary>A NaN with a payload no arithmetic produces: a slot still holding its bits was never written.</summary>
    static readonly float Untouched = BitConverter.Int32BitsToSingle(0x7FC0_4321);

    /// <summary>Which of DenseGemm's two paths this machine runs (DOTNET_EnableAVX2=0 selects the portable one).</summary>
    static string Path => Kernels.Microkernel.IsSupported ? "6×32 microkernel" : "portable loops";

    static readonly int[] Widths = [1, 31, 32, 33, 64, 65, 100];
    static readonly int[] Depths = [1, 7, 128, 129, 300];

    /// <summary>
    /// Every m in 1..14 (all tails of the 6-row tile, one or more tiles) × every n around the 32-column panel
    /// × every k around the 128-deep chunk: 490 products per (threads, accumulate).
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void Multiply_MatchesNaiveProduct_ForEveryShape(int threads, bool accumulate)
    {
        var rng = new Random(threads * 2 + (accumulate ? 1 : 0));
        using var pool = new ComputePool(threads);
        double worst = 0;
        for (int m = 1; m <= 14; m++)
            foreach (int n in Widths)
                foreach (int k in Depths)
                    worst = Math.Max(worst, CheckProduct(rng, pool, m, n, k, accumulate));
        output.WriteLine($"{Path}, threads {threads}, accumulate {accumulate}: max |diff| / (k·max|a|·max|b| + max|c₀|) = {worst:g3} (tolerance {Tolerance:g3})");
    }

    /// <summary>More rows than one row group (up to 336 rows, with a tail group), so tasks split both rows and column blocks.</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void Multiply_MatchesNaiveProduct_AcrossRowGroupsAndColumnSplits(int threads, bool accumulate)
    {
        var rng = new Random(10 + threads);
        using var pool = new ComputePool(threads);
        double worst = new[]
        {
            CheckProduct(rng, pool, 200, 70, 260, accumulate), CheckProduct(rng, pool, 97, 129, 33, accumulate),
            CheckProduct(rng, pool, 700, 45, 140, accumulate),
        }.Max();
        output.WriteLine($"{Path}, threads {threads}, accumulate {accumulate}: max relative |diff| {worst:g3}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Multiply_WithEmptyInnerDimension_ClearsOrKeepsC(bool accumulate)
    {
        const int m = 3, n = 5, ldc = 8;
        var rng = new Random(20);
        var c = Enumerable.Repeat(Untouched, Guard + m * ldc + Guard).ToArray();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[Guard + i * ldc + j] = rng.NextSingle() + 1;
        var before = (float[])c.Clone();
        float[] a = [1f], b = [1f];
        using var pool = new ComputePool(1);

        fixed (float* ap = a, bp = b, cp = c)
            DenseGemm.Multiply(ap, 1, bp, n, cp + Guard, ldc, m, n, 0, accumulate, pool);

        for (int at = 0; at < c.Length; at++)
        {
            bool inside = at >= Guard && (at - Guard) / ldc < m && (at - Guard) % ldc < n;
            if (inside && !accumulate)
                Assert.Equal(0f, c[at]);
            else
                Assert.Equal(BitConverter.SingleToInt32Bits(before[at]), BitConverter.SingleToInt32Bits(c[at]));
        }
    }

    /// <summary>One product with padded strides; returns max |diff| relative to the error scale, after asserting it.</summary>
    static double CheckProduct(Random rng, ComputePool pool, int m, int n, int k, bool accumulate)
    {
        int lda = k + 1 + rng.Next(5), ldb = n + 1 + rng.Next(5), ldc = n + 1 + rng.Next(5);
        float[] a = Uniform(rng, m * lda), b = Uniform(rng, k * ldb);
        var c = Enumerable.Repeat(Untouched, Guard + m * ldc + Guard).ToArray();
        // Without accumulation the window starts as NaN: C must be written without being read.
        double initialMax = 0;
        if (accumulate)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    c[Guard + i * ldc + j] = rng.NextSingle() * 4 - 2;
                    initialMax = Math.Max(initialMax, Math.Abs(c[Guard + i * ldc + j]));
                }
        var before = (float[])c.Clone();
        double[] expected = DoubleReference.Product(a, lda, b, ldb, m, n, k);

        fixed (float* ap = a, bp = b, cp = c)
            DenseGemm.Multiply(ap, lda, bp, ldb, cp + Guard, ldc, m, n, k, accumulate, pool);

        double scale = k * MaxAbs(a) * MaxAbs(b) + initialMax, worst = 0;
        string Shape() => $"m={m} n={n} k={k} lda={lda} ldb={ldb} ldc={ldc} accumulate={accumulate} threads={pool.Threads}";
        for (int at = 0; at < c.Length; at++)
        {
            int i = (at - Guard) / ldc, j = (at - Guard) % ldc;
            if (at >= Guard && i < m && j < n)
            {
                double exact = expected[i * n + j] + (accumulate ? before[at] : 0);
                double difference = Math.Abs(c[at] - exact);
                if (!(difference <= Tolerance * scale))
                    Assert.Fail($"{Shape()}: c[{i},{j}] = {c[at]:R}, exact {exact:R}");
                worst = Math.Max(worst, difference / scale);
            }
            else if (BitConverter.SingleToInt32Bits(c[at]) != BitConverter.SingleToInt32Bits(Untouched))
                Assert.Fail($"{Shape()}: slot {at - Guard} outside the C window was written ({c[at]:R})");
        }
        return worst;
    }

    static float[] Uniform(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }

    static double MaxAbs(float[] x) => x.Max(value => Math.Abs(value));
}
