using Camelid.Tensors.Quant;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests;

public class QuantRoundTripTests(ITestOutputHelper output)
{
    /// <summary>Bounds on the round-trip error of Gaussian data, as a fraction of the data's RMS and of
    /// the largest |x| of the whole row. Legacy bounds follow from the level spacing d (error ≤ d/2, or d for
    /// the clamped top level of Q4_0/Q5_0) plus fp16 rounding of the scales; the K-quant ones were measured
    /// and given ~1.5x headroom.</summary>
    public static TheoryData<GgmlType, double, double> Bounds() => new()
    {
        { GgmlType.F32, 0, 0 },
        { GgmlType.F16, 5e-4, 5e-4 },
        { GgmlType.BF16, 4e-3, 4e-3 },
        { GgmlType.Q8_0, 0.006, 0.0045 },
        { GgmlType.Q4_0, 0.12, 0.14 },
        { GgmlType.Q4_1, 0.10, 0.08 },
        { GgmlType.Q5_0, 0.06, 0.07 },
        { GgmlType.Q5_1, 0.05, 0.04 },
        { GgmlType.Q4_K, 0.10, 0.08 },
        { GgmlType.Q5_K, 0.05, 0.04 },
        { GgmlType.Q6_K, 0.025, 0.02 },
        { GgmlType.Q8_K, 0.009, 0.0045 }, // one scale per 256 values: coarser than Q8_0
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void QuantizeThenDequantize_StaysWithinTypeBound(GgmlType type, double rmsBound, double maxBound)
    {
        var rng = new Random(7 + (int)type);
        int n = 256 * 16;
        var x = TestData.Gaussian(rng, n);
        var bytes = new byte[GgmlTypes.RowBytes(type, n)];
        Quantizer.QuantizeRow(type, x, bytes);
        var back = new float[n];
        Dequantizer.DequantizeRow(type, bytes, back);

        double se = 0, sx = 0, maxErr = 0, maxAbs = 0;
        for (int i = 0; i < n; i++)
        {
            double e = Math.Abs(back[i] - x[i]);
            se += e * e;
            sx += (double)x[i] * x[i];
            maxErr = Math.Max(maxErr, e);
            maxAbs = Math.Max(maxAbs, Math.Abs(x[i]));
        }
        double rmsRel = Math.Sqrt(se / sx), maxRel = maxErr / maxAbs;
        output.WriteLine($"{type}: RMS error / RMS x = {rmsRel:E3} (bound {rmsBound}), max error / max|x| = {maxRel:E3} (bound {maxBound})");
        Assert.True(rmsRel <= rmsBound, $"RMS relative error {rmsRel} > {rmsBound}");
        Assert.True(maxRel <= maxBound, $"max relative error {maxRel} > {maxBound}");
    }

    [Theory]
    [MemberData(nameof(Bounds))]
    public void QuantizeRow_IsExactOnZerosAndHandlesConstantBlocks(GgmlType type, double rmsBound, double maxBound)
    {
        _ = rmsBound;
        int n = 512;
        var bytes = new byte[GgmlTypes.RowBytes(type, n)];
        var back = new float[n];
        Quantizer.QuantizeRow(type, new float[n], bytes);
        Dequantizer.DequantizeRow(type, bytes, back);
        Assert.All(back, v => Assert.Equal(0f, v));

        var constant = Enumerable.Repeat(0.375f, n).ToArray(); // 0.375 is exact in fp16
        Quantizer.QuantizeRow(type, constant, bytes);
        Dequantizer.DequantizeRow(type, bytes, back);
        Assert.All(back, v => Assert.InRange(v, 0.375 * (1 - maxBound) - 1e-7, 0.375 * (1 + maxBound) + 1e-7));
    }

    [Fact]
    public void QuantizeRow_RejectsNonFiniteInputAndWrongSizes()
    {
        var x = new float[32];
        x[5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => Quantizer.QuantizeRow(GgmlType.Q4_0, x, new byte[18]));
        Assert.Contains("element 5", e.Message);
        Assert.Throws<ArgumentException>(() => Quantizer.QuantizeRow(GgmlType.Q4_0, new float[32], new byte[19]));
        Assert.Throws<ArgumentException>(() => Quantizer.QuantizeRow(GgmlType.Q4_K, new float[100], new byte[144]));
        Assert.Throws<NotSupportedException>(() => Quantizer.QuantizeRow(GgmlType.Q3_K, new float[256], new byte[110]));
    }

    [Fact]
    public void NearestInt_RoundsHalfToEvenLikeGgml()
    {
        Assert.Equal(0, KQuantizer.NearestInt(0.5f));
        Assert.Equal(2, KQuantizer.NearestInt(1.5f));
        Assert.Equal(2, KQuantizer.NearestInt(2.5f));
        Assert.Equal(-2, KQuantizer.NearestInt(-2.5f));
        Assert.Equal(-3, KQuantizer.NearestInt(-2.6f));
        Assert.Equal(4194303, KQuantizer.NearestInt(4194303f));
    }
}
