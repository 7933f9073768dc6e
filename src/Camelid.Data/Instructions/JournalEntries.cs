using System.Text.Json.Serialization;
using Camelid.Data.Formats;
using Camelid.Data.Teacher;

namespace Camelid.Data.Instructions;

/// <summary>
/// One line of a generation journal (<c>OUT.journal.jsonl</c>), the record of everything a run has finished:
/// a header with the options that decide the results, then one line per finished request group ("unit"),
/// in order, holding the teacher's raw answers and what was kept and dropped. The outputs are rebuilt from it.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(JournalHeader), "header")]
[JsonDerivedType(typeof(AlpacaUnit), "alpaca")]
[JsonDerivedType(typeof(BootstrapUnit), "bootstrap")]
[JsonDerivedType(typeof(ClassificationUnit), "classify")]
[JsonDerivedType(typeof(InstancesUnit), "instances")]
public abstract record JournalEntry;

/// <summary>The options a resumed run must share with the first one, or its results would differ.</summary>
public sealed record JournalHeader : JournalEntry
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("mode")] public required string Mode { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }
    [JsonPropertyName("teacher_model")] public required string TeacherModel { get; init; }
    [JsonPropertyName("endpoint")] public required string Endpoint { get; init; }
    [JsonPropertyName("temperature")] public double Temperature { get; init; }
    [JsonPropertyName("top_p")] public double TopP { get; init; }
    [JsonPropertyName("max_tokens")] public int MaxTokens { get; init; }
    [JsonPropertyName("prompt_instructions")] public int PromptInstructions { get; init; }
    [JsonPropertyName("batch")] public int Batch { get; init; }
    [JsonPropertyName("rouge_threshold")] public double RougeThreshold { get; init; }
    [JsonPropertyName("max_instances")] public int MaxInstances { get; init; }
    [JsonPropertyName("seed_tasks_sha256")] public required string SeedTasksSha256 { get; init; }
    [JsonPropertyName("prompt_sha256")] public required string PromptSha256 { get; init; }

    /// <summary>Self-Instruct mode: request group i draws machine-written examples only from groups before i − lag (see docs).</summary>
    [JsonPropertyName("machine_example_lag")] public int MachineExampleLag { get; init; }
}

/// <summary>A teacher's answer as received (the audit trail; the prompt can be rebuilt from the journal).</summary>
public sealed record TeacherExchange(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("finish_reason")] string FinishReason,
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("completion_tokens")] long CompletionTokens)
{
    public static TeacherExchange From(TeacherCompletion c) => new(c.Text, c.FinishReason, c.Usage.PromptTokens, c.Usage.CompletionTokens);

    [JsonIgnore] public TeacherUsage Usage => new(PromptTokens, CompletionTokens);
}

/// <summary>
/// A candidate that did not make it, with the reason and the kept instruction most similar to it (ROUGE-L
/// F-measure against the seed tasks and everything kept before it), when it was compared.
/// </summary>
public sealed record DroppedCandidate
{
    [JsonPropertyName("unit")] public int Unit { get; init; }
    [JsonPropertyName("stage")] public required string Stage { get; init; }
    [JsonPropertyName("reason")] public required string Reason { get; init; }
    [JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Detail { get; init; }
    [JsonPropertyName("instruction")] public required string Instruction { get; init; }
    [JsonPropertyName("input")] public string Input { get; init; } = "";
    [JsonPropertyName("output")] public string Output { get; init; } = "";
    [JsonPropertyName("most_similar")] public string? MostSimilar { get; init; }
    [JsonPropertyName("score")] public double? Score { get; init; }
}

/// <summary>Alpaca mode: one request group's answers, the records kept, the candidates dropped.</summary>
public sealed record AlpacaUnit(
    [property: JsonPropertyName("unit")] int Unit,
    [property: JsonPropertyName("answers")] IReadOnlyList<TeacherExchange> Answers,
    [property: JsonPropertyName("kept")] IReadOnlyList<AlpacaRecord> Kept,
    [property: JsonPropertyName("dropped")] IReadOnlyList<DroppedCandidate> Dropped) : JournalEntry;

/// <summary>Self-Instruct stage 1: one request group's answers and the instructions kept.</summary>
public sealed record BootstrapUnit(
    [property: JsonPropertyName("unit")] int Unit,
    [property: JsonPropertyName("answers")] IReadOnlyList<TeacherExchange> Answers,
    [property: JsonPropertyName("kept")] IReadOnlyList<string> Kept,
    [property: JsonPropertyName("dropped")] IReadOnlyList<DroppedCandidate> Dropped) : JournalEntry;

/// <summary>Self-Instruct stage 2: whether each task (by index) is a classification task.</summary>
public sealed record ClassificationUnit(
    [property: JsonPropertyName("unit")] int Unit,
    [property: JsonPropertyName("answers")] IReadOnlyList<TeacherExchange> Answers,
    [property: JsonPropertyName("tasks")] IReadOnlyList<int> Tasks,
    [property: JsonPropertyName("is_classification")] IReadOnlyList<bool> IsClassification) : JournalEntry;

/// <summary>Self-Instruct stages 3 and 4: each task's kept instances as records, and the dropped ones.</summary>
public sealed record InstancesUnit(
    [property: JsonPropertyName("unit")] int Unit,
    [property: JsonPropertyName("answers")] IReadOnlyList<TeacherExchange> Answers,
    [property: JsonPropertyName("tasks")] IReadOnlyList<int> Tasks,
    [property: JsonPropertyName("records")] IReadOnlyList<IReadOnlyList<AlpacaRecord>> Records,
    [property: JsonPropertyName("dropped")] IReadOnlyList<DroppedCandidate> Dropped) : JournalEntry;
