using Xunit.Abstractions;

namespace Camelid.Tensors.Tests.Training;

/// <summary>
/// Central finite differences on the double-precision twins, and the comparison of an f32 kernel's result
/// with a double expectation relative to the expectation's largest magnitude.
/// </summary>
static class GradientCheck
{
    /// <summary>
    /// Step of the central difference: its truncation error (~h²) and its rounding error
    /// (~1e-16·|L|/h) both stay below 1e-9 for objectives of order 1..100.
    /// </summary>
    const double Step = 1e-6;

    /// <summary>∂objective/∂input[i] for every i by (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h; the input is restored.</summary>
    public static double[] Numeric(double[] input, Func<double> objective)
    {
        var gradient = new double[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            double saved = input[i];
            input[i] = saved + Step;
            double plus = objective();
            input[i] = saved - Step;
            double minus = objective();
            input[i] = saved;
            gradient[i] = (plus - minus) / (2 * Step);
        }
        return gradient;
    }

    /// <summary>L = Σ rᵢ·yᵢ, the scalar whose gradient with respect to y is r.</summary>
    public static double Weighted(double[] y, float[] r)
    {
        double sum = 0;
        for (int i = 0; i < y.Length; i++)
            sum += r[i] * y[i];
        return sum;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
            d[i] = x[i];
        return d;
    }

    /// <summary>actual − before, elementwise in double: what an accumulating kernel added.</summary>
    public static double[] Added(float[] after, float[] before)
    {
        var d = new double[after.Length];
        for (int i = 0; i < after.Length; i++)
            d[i] = (double)after[i] - before[i];
        return d;
    }

    /// <summary>
    /// Asserts max |actual − expected| ≤ relativeTolerance · max |expected| over the first expected.Length
    /// values and prints both numbers.
    /// </summary>
    public static void AssertClose(ITestOutputHelper output, string name, ReadOnlySpan<float> actual, double[] expected, double relativeTolerance) =>
        AssertClose(output, name, ToDouble(actual[..expected.Length]), expected, relativeTolerance);

    public static void AssertClose(ITestOutputHelper output, string name, double[] actual, double[] expected, double relativeTolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, worst = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            double difference = Math.Abs(actual[i] - expected[i]);
            if (!double.IsNaN(worst) && !(difference <= worst))
            {
                worst = difference;
                worstAt = i;
            }
        }
        output.WriteLine($"{name}: max |diff| {worst:g3}, max |expected| {scale:g3}, ratio {worst / scale:g3} (tolerance {relativeTolerance:g3})");
        Assert.True(scale > 0, $"{name}: the expectation is all zero, the check would be vacuous");
        Assert.True(worst <= relativeTolerance * scale,
            $"{name}[{worstAt}]: got {actual[worstAt]:R}, expected {expected[worstAt]:R} (max |expected| {scale:g3})");
    }
}
