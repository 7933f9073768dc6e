using Camelid.Tensors.Quant;
using Camelid.Tensors.Reference;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests;

public unsafe class QuantDotTests(ITestOutputHelper output)
{
    public static TheoryData<GgmlType> Types() => new(TestData.QuantTypes);

    /// <summary>The SIMD lane kernel against its scalar twin for every multiple of 32 up to 8 Q8_K blocks
    /// (all vector widths and tails), unsigned levels 0..63 and signed levels -128..127.
    /// Tolerance: 1e-5 of Σ|terms| (float accumulation order only).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DotLanes_MatchesScalarTwinForEveryLength(bool signedWeights)
    {
        var rng = new Random(signedWeights ? 11 : 12);
        double worst = 0;
        for (int n = 32; n <= 2048; n += 32)
        {
            var u = new byte[n];
            var a = new sbyte[n];
            for (int i = 0; i < n; i++)
            {
                u[i] = signedWeights ? (byte)rng.Next(0, 256) : (byte)rng.Next(0, 64);
                a[i] = (sbyte)rng.Next(-127, 128);
            }
            var wl = TestData.Gaussian(rng, n / 4, 0.01f);
            var al = TestData.Gaussian(rng, n / 4, 0.01f);
            fixed (byte* up = u) fixed (sbyte* ap = a) fixed (float* wp = wl) fixed (float* alp = al)
            {
                float fast = signedWeights
                    ? QuantDot.DotLanes<QuantDot.SignedWeights>(up, ap, wp, alp, n)
                    : QuantDot.DotLanes<QuantDot.UnsignedWeights>(up, ap, wp, alp, n);
                double reference = ReferenceQuantDot.DotLanes(signedWeights, up, ap, wp, alp, n);
                double scale = 0;
                for (int k = 0; k < n / 4; k++)
                    for (int j = 0; j < 4; j++)
                        scale += Math.Abs((signedWeights ? (sbyte)u[4 * k + j] : u[4 * k + j]) * a[4 * k + j] * (double)wl[k] * al[k]);
                double rel = Math.Abs(fast - reference) / Math.Max(scale, 1e-30);
                worst = Math.Max(worst, rel);
                Assert.True(rel <= 1e-5, $"n={n}: fast {fast}, reference {reference}, relative error {rel}");
            }
        }
        output.WriteLine($"signed={signedWeights}: worst |fast - twin| / Σ|terms| = {worst:E2} over n = 32..2048 step 32 (tolerance 1e-5)");
    }

    /// <summary>Unpacked weights (laneScale·u + bias) reproduce the dequantized row.</summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void UnpackRow_ReproducesDequantizedValues(GgmlType type)
    {
        var rng = new Random(20 + (int)type);
        int n = 256 * 3;
        var row = TestData.RandomBlocks(rng, type, n);
        var deq = new float[n];
        Dequantizer.DequantizeRow(type, row, deq);
        var u = new byte[n];
        var lanes = new float[n / 4];
        var bias = new float[n / QuantDot.WeightGroupSize(type)];
        WeightUnpacker.UnpackRow(type, row, u, lanes, bias);
        int g = QuantDot.WeightGroupSize(type);
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            double level = type == GgmlType.Q8_0 ? (sbyte)u[i] : u[i];
            double value = lanes[i / 4] * level + bias[i / g];
            double tol = 1e-6 * (Math.Abs(lanes[i / 4] * level) + Math.Abs(bias[i / g])) + 1e-12;
            worst = Math.Max(worst, Math.Abs(value - deq[i]));
            Assert.True(Math.Abs(value - deq[i]) <= tol, $"{type} element {i}: unpacked {value}, dequantized {deq[i]}");
        }
        output.WriteLine($"{type}: max |unpacked - dequantized| = {worst:E2}");
    }

    /// <summary>
    /// The quantized dot product against dequantize + double dot with the unquantized x. The activation
    /// quantization moves each x_i by at most amax(block of x_i)/254 (half a level of 127 levels), so the
    /// bound is Σ|w_i|·amax_i/254 plus 1e-5·Σ|w_i·x_i| for float rounding.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void Dot_MatchesDequantizedDotWithinActivationQuantizationBound(GgmlType type)
    {
        var rng = new Random(30 + (int)type);
        double worstRatio = 0;
        for (int blocks = 1; blocks <= 8; blocks++)
        {
            int n = 256 * blocks;
            var w = TestData.Gaussian(rng, n, 0.05f);
            var row = new byte[GgmlTypes.RowBytes(type, n)];
            Quantizer.QuantizeRow(type, w, row);
            var x = TestData.Gaussian(rng, n);
            float fast = QuantDot.Dot(type, row, x);

            var deq = new float[n];
            Dequantizer.DequantizeRow(type, row, deq);
            double exact = 0, bound = 0, abs = 0;
            int ab = QuantDot.ActivationBlockSize(type);
            for (int b = 0; b < n / ab; b++)
            {
                double amax = 0;
                for (int i = b * ab; i < (b + 1) * ab; i++) amax = Math.Max(amax, Math.Abs(x[i]));
                for (int i = b * ab; i < (b + 1) * ab; i++)
                {
                    exact += (double)deq[i] * x[i];
                    bound += Math.Abs(deq[i]) * amax / 254 * 1.0001;
                    abs += Math.Abs((double)deq[i] * x[i]);
                }
            }
            bound += 1e-5 * abs + 1e-7;
            double err = Math.Abs(fast - exact);
            worstRatio = Math.Max(worstRatio, err / bound);
            Assert.True(err <= bound, $"{type} n={n}: quantized dot {fast}, exact {exact}, error {err} > bound {bound}");
        }
        output.WriteLine($"{type}: worst error / bound = {worstRatio:F3} over n = 256..2048");
    }
}
