using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Camelid.TrainingBenchmarks;

sealed record StepRecord(double Seconds, double TokensPerSecond, double ForwardBackwardSeconds, double OptimizerSeconds, double Loss);

/// <summary>
/// The result of a run, with the field names torch_step.py uses for the same measurement (snake_case in JSON),
/// so that bench/training/run.sh can read both.
/// </summary>
sealed record BenchmarkReport
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public required string Engine { get; init; }
    public required string Runtime { get; init; }
    public required string Shape { get; init; }
    public int Dim { get; init; }
    public int HiddenDim { get; init; }
    public int Layers { get; init; }
    public int Heads { get; init; }
    public int KvHeads { get; init; }
    public int VocabSize { get; init; }
    public int Seq { get; init; }
    public int MicroBatch { get; init; }
    public int TokensPerStep { get; init; }
    public int Threads { get; init; }
    public bool GradCheckpointing { get; init; }
    public int Warmup { get; init; }
    public int Steps { get; init; }
    /// <summary>full, lora or qlora (NF4 base), qlora-q4_0, qlora-q8_0.</summary>
    public string Method { get; init; } = "full";
    public long Parameters { get; init; }
    public long TrainableParameters { get; init; }
    public double TokensPerSecondMean { get; init; }
    public double TokensPerSecondStd { get; init; }
    public double StepSecondsMean { get; init; }
    public double ForwardBackwardSecondsMean { get; init; }
    /// <summary>Zeroing the gradients, clipping and the AdamW update.</summary>
    public double OptimizerSecondsMean { get; init; }
    public double ModelGflopPerToken { get; init; }
    /// <summary>Model FLOPs (<see cref="ModelCost"/>) per second of whole steps.</summary>
    public double ModelGflops { get; init; }
    /// <summary>Frozen weights + trainable f32 parameters.</summary>
    public long ParameterBytes { get; init; }
    /// <summary>The frozen base (LoRA: f32; QLoRA: compressed block matrices + f32 embedding, norms, head); 0 in full training.</summary>
    public long FrozenBaseBytes { get; init; }
    public long GradientBytes { get; init; }
    /// <summary>AdamW's two moments.</summary>
    public long OptimizerStateBytes { get; init; }
    /// <summary><c>TrainingTransformer.ActivationBytes</c>: saved activations and gradient scratch.</summary>
    public long ActivationBytes { get; init; }
    public long PeakRssBytes { get; init; }
    /// <summary>The 1-minute load average when the timed steps ended: on a shared machine, whether they had the cores to themselves.</summary>
    public double? LoadAverage { get; init; }
    public required IReadOnlyList<StepRecord> StepTimes { get; init; }
    public IReadOnlyList<ProfileRow>? Profile { get; init; }

    public void WriteSummary(TextWriter output)
    {
        var culture = CultureInfo.InvariantCulture;
        void Line(string label, FormattableString value) => output.WriteLine($"{label,-18}{value.ToString(culture)}");
        output.WriteLine();
        Line("tokens/s", $"{TokensPerSecondMean:F1} ± {TokensPerSecondStd:F1} ({Steps} steps of {TokensPerStep} tokens, {StepSecondsMean:F3} s per step)");
        Line("forward+backward", $"{ForwardBackwardSecondsMean:F3} s per step ({ForwardBackwardSecondsMean / StepSecondsMean:P0})");
        Line("optimizer", $"{OptimizerSecondsMean:F3} s per step ({OptimizerSecondsMean / StepSecondsMean:P0}: zeroing, clipping, AdamW)");
        Line("model FLOPs", $"{ModelGflopPerToken:F3} GFLOP per token, {ModelGflops:F1} GFLOP/s");
        Line("memory", $"parameters {Mib(ParameterBytes)} (frozen base {Mib(FrozenBaseBytes)}, {TrainableParameters / 1e6:F3}M trainable), gradients {Mib(GradientBytes)}, AdamW moments {Mib(OptimizerStateBytes)}, activations {Mib(ActivationBytes)}");
        Line("peak resident", $"{Mib(PeakRssBytes)} (VmHWM)");
        if (LoadAverage is double load)
            Line("load average", $"{load:F2} (1 minute, {Environment.ProcessorCount} cores)");
        if (Profile != null)
            KernelProfile.WriteTable(output, Profile, ForwardBackwardSecondsMean);
    }

    static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB");
}
