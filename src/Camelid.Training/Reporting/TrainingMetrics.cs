using System.Text.Json;
using System.Text.Json.Serialization;

namespace Camelid.Training.Reporting;

/// <summary>One optimizer step, as logged to <c>metrics.jsonl</c> and shown on the progress line; tokens/s is this step's.</summary>
public sealed record StepMetrics(int Step, int TotalSteps, double Epoch, double Loss, double LearningRate, double GradNorm,
    int TrainedTokens, int Tokens, double TokensPerSecond, double ElapsedSeconds)
{
    [JsonIgnore] public TimeSpan Remaining => Step == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(ElapsedSeconds / Step * (TotalSteps - Step));
}

/// <summary>A validation pass: the mean loss over every held-out trained token.</summary>
public sealed record ValidationMetrics(int Step, double Epoch, double ValidationLoss, long ValidationTokens);

/// <summary>
/// <c>RUN/metrics.jsonl</c>: one JSON object per step ("kind": "train") or validation ("kind": "validation"),
/// appended and flushed as they happen so a killed run keeps what it measured. A resumed run first drops the
/// lines past its checkpoint, so the file reads as one uninterrupted run.
/// </summary>
public sealed class MetricsLog
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    readonly string _path;

    public MetricsLog(string path) => _path = path;

    public string Path => _path;

    public void Append(StepMetrics m) => AppendLine(Line("train", m));

    public void Append(ValidationMetrics m) => AppendLine(Line("validation", m));

    /// <summary>Keeps only the entries up to and including <paramref name="step"/>.</summary>
    public void TruncateAfter(int step)
    {
        if (!File.Exists(_path))
            return;
        var kept = File.ReadLines(_path).Where(line => StepOf(line) <= step).ToList();
        string temp = _path + ".tmp";
        File.WriteAllLines(temp, kept);
        File.Move(temp, _path, overwrite: true);
    }

    public (List<StepMetrics> Train, List<ValidationMetrics> Validation) Read()
    {
        var train = new List<StepMetrics>();
        var validation = new List<ValidationMetrics>();
        if (!File.Exists(_path))
            return (train, validation);
        foreach (var line in File.ReadLines(_path))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("kind").GetString() == "validation")
                validation.Add(doc.RootElement.Deserialize<ValidationMetrics>(Json)!);
            else
                train.Add(doc.RootElement.Deserialize<StepMetrics>(Json)!);
        }
        return (train, validation);
    }

    static string Line<T>(string kind, T metrics)
    {
        var node = JsonSerializer.SerializeToNode(metrics, Json)!.AsObject();
        node.Insert(0, "kind", kind);
        return node.ToJsonString();
    }

    static int StepOf(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("step").GetInt32();
    }

    void AppendLine(string line)
    {
        using var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(line);
    }
}
