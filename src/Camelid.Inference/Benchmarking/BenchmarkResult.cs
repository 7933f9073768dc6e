using System.Text.Json.Serialization;

namespace Camelid.Inference.Benchmarking;

/// <summary>What llama-bench calls the model columns: file, a short description, bytes and parameters.</summary>
/// <param name="Type">e.g. <c>llama 1.1B Q4_0</c>: the architecture, the parameter count rounded, the type of most weights</param>
public sealed record ModelDescription(string Filename, string Type, long SizeBytes, long Parameters);

/// <summary>
/// One test (a prompt of <see cref="PromptTokens"/> or <see cref="GeneratedTokens"/> decode steps) at one
/// thread count, over several repetitions. The JSON names are llama-bench's where it has the field
/// (<c>avg_ts</c>, <c>samples_ns</c>, ...), so its tooling can read ours; the <c>gen_</c> fields are ours.
/// </summary>
public sealed record ModelBenchmarkResult
{
    [JsonPropertyName("cpu_info")] public required string CpuInfo { get; init; }
    [JsonPropertyName("model_filename")] public required string ModelFilename { get; init; }
    [JsonPropertyName("model_type")] public required string ModelType { get; init; }
    [JsonPropertyName("model_size")] public required long ModelSize { get; init; }
    [JsonPropertyName("model_n_params")] public required long ModelParameters { get; init; }
    /// <summary>Tokens per forward call: the whole prompt for pp, 1 for tg.</summary>
    [JsonPropertyName("n_batch")] public required int Batch { get; init; }
    [JsonPropertyName("n_threads")] public required int Threads { get; init; }
    [JsonPropertyName("n_prompt")] public required int PromptTokens { get; init; }
    [JsonPropertyName("n_gen")] public required int GeneratedTokens { get; init; }
    /// <summary>pp512, tg128, or pp512+tg128 for a test that does both.</summary>
    [JsonPropertyName("test")] public string Test => TestName(PromptTokens, GeneratedTokens);
    /// <summary>UTC start of the test, ISO 8601 as llama-bench writes it.</summary>
    [JsonPropertyName("test_time")] public required string TestTime { get; init; }
    [JsonPropertyName("avg_ns")] public long AverageNs => (long)Math.Round(BenchmarkStatistics.Mean(SamplesNs.Select(s => (double)s).ToArray()));
    [JsonPropertyName("stddev_ns")] public long StdDevNs => (long)Math.Round(BenchmarkStatistics.SampleStandardDeviation(SamplesNs.Select(s => (double)s).ToArray()));
    [JsonPropertyName("avg_ts")] public double AverageTokensPerSecond => BenchmarkStatistics.Mean(SamplesTokensPerSecond.ToArray());
    [JsonPropertyName("stddev_ts")] public double StdDevTokensPerSecond => BenchmarkStatistics.SampleStandardDeviation(SamplesTokensPerSecond.ToArray());
    /// <summary>Wall time of each timed repetition.</summary>
    [JsonPropertyName("samples_ns")] public required IReadOnlyList<long> SamplesNs { get; init; }
    /// <summary>(prompt + generated tokens) / time of each repetition.</summary>
    [JsonPropertyName("samples_ts")] public IReadOnlyList<double> SamplesTokensPerSecond => SamplesNs.Select(ns => (PromptTokens + GeneratedTokens) * 1e9 / ns).ToArray();
    /// <summary>For a generation test: weight bytes of every matrix (the token embedding table excepted, only
    /// one row of it is read) plus the KV cache read by attention, per generated token on average.</summary>
    [JsonPropertyName("gen_bytes_per_token")] public double? GenerationBytesPerToken { get; init; }
    /// <summary>For a generation test: bytes read per token × tokens/s, averaged over repetitions, in GB/s (10⁹).</summary>
    [JsonPropertyName("gen_bandwidth_gbs")] public double? GenerationBandwidthGbs => GenerationBytesPerToken is { } b
        ? BenchmarkStatistics.Mean(SamplesTokensPerSecond.Select(ts => ts * b / 1e9).ToArray())
        : null;

    public static string TestName(int promptTokens, int generatedTokens) => (promptTokens, generatedTokens) switch
    {
        ( > 0, 0) => $"pp{promptTokens}",
        (0, > 0) => $"tg{generatedTokens}",
        _ => $"pp{promptTokens}+tg{generatedTokens}",
    };
}
