namespace Camelid.Inference.Benchmarking;

/// <summary>The statistics llama-bench reports over repetitions: the mean and the sample standard deviation.</summary>
public static class BenchmarkStatistics
{
    public static double Mean(ReadOnlySpan<double> samples)
    {
        if (samples.IsEmpty)
            return 0;
        double sum = 0;
        foreach (double s in samples)
            sum += s;
        return sum / samples.Length;
    }

    /// <summary>sqrt(Σ(x - mean)² / (n - 1)), Bessel-corrected as llama-bench's <c>stdev</c>; 0 for fewer than 2
    /// samples. Two passes rather than llama-bench's Σx² - n·mean², which loses digits when the spread is small.</summary>
    public static double SampleStandardDeviation(ReadOnlySpan<double> samples)
    {
        if (samples.Length < 2)
            return 0;
        double mean = Mean(samples), squares = 0;
        foreach (double s in samples)
            squares += (s - mean) * (s - mean);
        return Math.Sqrt(squares / (samples.Length - 1));
    }
}
