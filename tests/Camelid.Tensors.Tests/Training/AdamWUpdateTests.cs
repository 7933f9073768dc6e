using Camelid.Tensors.Training;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests.Training;

/// <summary>
/// AdamWUpdate against torch.optim.AdamW's formula run in double, over several steps and every length
/// 0..67 (no, one and several vector widths, every tail). Tolerances are 1e-6 relative to each quantity's
/// natural size: the parameter plus the distance it may have moved (lr per step), the largest gradient seen
/// for m, and v itself.
/// </summary>
public sealed class AdamWUpdateTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-6;
    const int Steps = 6;

    [Theory]
    [InlineData(1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f)]
    [InlineData(3e-4f, 0.8f, 0.95f, 1e-6f, 0f)]
    public void Apply_MatchesTorchAdamWInDouble_ForEveryLength(float lr, float beta1, float beta2, float eps, float weightDecay)
    {
        double worstP = 0, worstM = 0, worstV = 0;
        for (int length = 0; length <= 67; length++)
        {
            var rng = new Random(length);
            float[] p = TestData.Gaussian(rng, length), m = new float[length], v = new float[length];
            double[] pd = GradientCheck.ToDouble(p), md = new double[length], vd = new double[length];
            var largestGradient = new double[length];
            for (int step = 1; step <= Steps; step++)
            {
                float[] g = TestData.Gaussian(rng, length);
                if (length > 0)
                    g[0] = 0; // m and v stay exactly 0 (their tolerance is 0) and p only decays
                if (length > 5)
                    g[5] *= 1000;
                for (int i = 0; i < length; i++)
                    largestGradient[i] = Math.Max(largestGradient[i], Math.Abs(g[i]));

                AdamWUpdate.Apply(p, g, m, v, new AdamWUpdate.Settings(lr, beta1, beta2, eps, weightDecay, step));
                DoubleReference.AdamWStep(pd, GradientCheck.ToDouble(g), md, vd, lr, beta1, beta2, eps, weightDecay, step);

                for (int i = 0; i < length; i++)
                {
                    string At(string what) => $"{what} (length {length}, step {step}, index {i})";
                    worstP = Math.Max(worstP, Check(() => At("p"), p[i], pd[i], Math.Abs(pd[i]) + lr * step));
                    worstM = Math.Max(worstM, Check(() => At("m"), m[i], md[i], largestGradient[i]));
                    worstV = Math.Max(worstV, Check(() => At("v"), v[i], vd[i], vd[i]));
                }
            }
        }
        output.WriteLine($"max relative |diff|: p {worstP:g3}, m {worstM:g3}, v {worstV:g3} (tolerance {Tolerance:g3})");
    }

    [Fact]
    public void Apply_RejectsMismatchedLengths()
    {
        var settings = new AdamWUpdate.Settings(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
        Assert.Throws<ArgumentException>(() => AdamWUpdate.Apply(new float[4], new float[3], new float[4], new float[4], settings));
        Assert.Throws<ArgumentException>(() => AdamWUpdate.Apply(new float[4], new float[4], new float[4], new float[5], settings));
    }

    /// <summary>Asserts |actual − expected| ≤ Tolerance·scale and returns the difference relative to scale (0 when both are 0).</summary>
    static double Check(Func<string> what, float actual, double expected, double scale)
    {
        double difference = Math.Abs(actual - expected);
        if (!(difference <= Tolerance * scale))
            Assert.Fail($"{what()}: got {actual:R}, expected {expected:R}");
        return scale > 0 ? difference / scale : 0;
    }
}
