using Camelid.Inference.Benchmarking;
using Camelid.Model;

namespace Camelid.Model.Tests;

/// <summary>The arithmetic of `camelid bench`, against values worked out by hand.</summary>
public class BenchmarkStatisticsTests
{
    [Fact]
    public void MeanAndSampleStandardDeviation_MatchHandComputedValues()
    {
        // Mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample variance 32/7.
        double[] x = [2, 4, 4, 4, 5, 5, 7, 9];
        Assert.Equal(5, BenchmarkStatistics.Mean(x));
        Assert.Equal(Math.Sqrt(32.0 / 7), BenchmarkStatistics.SampleStandardDeviation(x), 12);
        // Two samples: |a - b| / sqrt(2).
        Assert.Equal(Math.Sqrt(2), BenchmarkStatistics.SampleStandardDeviation([10, 12]), 12);
    }

    [Fact]
    public void OneOrNoSamples_HaveZeroDeviation_AsInLlamaBench()
    {
        Assert.Equal(0, BenchmarkStatistics.SampleStandardDeviation([42]));
        Assert.Equal(42, BenchmarkStatistics.Mean([42]));
        Assert.Equal(0, BenchmarkStatistics.SampleStandardDeviation([]));
        Assert.Equal(0, BenchmarkStatistics.Mean([]));
    }

    [Fact]
    public void SmallSpreadOnALargeValue_KeepsItsDigits()
    {
        // Nanosecond samples: Σx² - n·mean² would cancel catastrophically here; the deviation is exactly 1.
        Assert.Equal(1, BenchmarkStatistics.SampleStandardDeviation([1e12 + 1, 1e12 + 2, 1e12 + 3]), 9);
    }

    [Fact]
    public void Result_DerivesTokensPerSecondAndBandwidth_FromItsSamples()
    {
        var r = new ModelBenchmarkResult
        {
            CpuInfo = "cpu", ModelFilename = "m.gguf", ModelType = "llama 1K F32", ModelSize = 1, ModelParameters = 1,
            Batch = 1, Threads = 2, PromptTokens = 0, GeneratedTokens = 10, TestTime = "2025-01-01T00:00:00Z",
            SamplesNs = [1_000_000_000, 2_000_000_000], GenerationBytesPerToken = 3e9,
        };
        Assert.Equal("tg10", r.Test);
        Assert.Equal([10.0, 5.0], r.SamplesTokensPerSecond);
        Assert.Equal(7.5, r.AverageTokensPerSecond);
        Assert.Equal(Math.Sqrt(12.5), r.StdDevTokensPerSecond, 12);
        Assert.Equal(1_500_000_000, r.AverageNs);
        Assert.Equal(707_106_781, r.StdDevNs);
        Assert.Equal((30.0 + 15.0) / 2, r.GenerationBandwidthGbs!.Value, 12); // 3 GB per token × tokens/s
    }

    [Theory]
    [InlineData(512, 0, "pp512")]
    [InlineData(0, 128, "tg128")]
    [InlineData(4, 2, "pp4+tg2")]
    public void TestNames_FollowLlamaBench(int prompt, int generated, string name) =>
        Assert.Equal(name, ModelBenchmarkResult.TestName(prompt, generated));

    [Theory]
    [InlineData(292_000L, "292K")]
    [InlineData(15_191_712L, "15M")]
    [InlineData(1_100_048_384L, "1.1B")]
    [InlineData(6_738_415_616L, "6.7B")]
    [InlineData(70_553_706_496L, "71B")]
    [InlineData(999L, "999")]
    public void ParameterLabels_HaveTwoSignificantDigitsAtMost(long parameters, string label) =>
        Assert.Equal(label, ModelBenchmark.ParameterLabel(parameters));

    [Fact]
    public void KvCacheBytes_CountEveryPositionEachStepReads()
    {
        var c = new LlamaConfig { Dim = 8, HiddenDim = 16, Layers = 2, Heads = 2, KvHeads = 1, VocabSize = 10, TrainedContextLength = 16 };
        // kvDim 4; keys + values, fp32, 2 layers: 64 bytes per position.
        Assert.Equal((1 + 2 + 3) * 64, ModelBenchmark.KvCacheBytesRead(c, 0, 3));
        Assert.Equal((3 + 4) * 64, ModelBenchmark.KvCacheBytesRead(c, 2, 2));
        Assert.Equal(0, ModelBenchmark.KvCacheBytesRead(c, 5, 0));
    }

    [Fact]
    public void TableColumns_UseLlamaBenchUnits()
    {
        Assert.Equal("607.49 MiB", BenchmarkReport.FormatSize(637_000_000));
        Assert.Equal("1.50 GiB", BenchmarkReport.FormatSize(3L << 29));
        Assert.Equal("0.29 M", BenchmarkReport.FormatParameters(292_000));
        Assert.Equal("1.10 B", BenchmarkReport.FormatParameters(1_100_048_384));
    }
}
