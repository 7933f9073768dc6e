using Camelid.Data.Formats;
using Camelid.Data.Teacher;

namespace Camelid.Data.Instructions;

/// <summary>Alpaca's single-prompt flow, or Self-Instruct's four stages.</summary>
public enum GenerationMode { Alpaca, SelfInstruct }

/// <summary>
/// What to generate and where to write it. Unset decoding options take the original scripts' values for the mode:
/// Alpaca — temperature 1, top-p 1, 3 in-context tasks, max_tokens 3072; Self-Instruct stage 1 — temperature 0.7,
/// top-p 0.5, 8 in-context instructions (6 human-written + up to 2 machine-written), max_tokens 1024
/// (stages 2 and 3 decode greedily, as the original did).
/// </summary>
public sealed record SelfInstructOptions
{
    public GenerationMode Mode { get; init; } = GenerationMode.Alpaca;

    /// <summary>The teacher's model name (kept in the journal: a resumed run must use the same one).</summary>
    public string TeacherModel { get; init; } = "";

    /// <summary>Chat prompts get chat-friendly stop sequences and parsing; plain completions get the originals'.</summary>
    public TeacherEndpoint Endpoint { get; init; } = TeacherEndpoint.Chat;

    /// <summary>The teacher's <see cref="TeacherOptions.Concurrency"/>: how many request groups to keep in flight.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Alpaca: records to keep. Self-Instruct: instructions (tasks) to generate, each with up to 5 instances.</summary>
    public required int Count { get; init; }

    public long Seed { get; init; } = 42;
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? PromptInstructions { get; init; }
    public int? MaxTokens { get; init; }

    /// <summary>Prompts per request group (Alpaca's and Self-Instruct's request_batch_size).</summary>
    public int Batch { get; init; } = 5;

    /// <summary>A candidate whose ROUGE-L F-measure against any kept instruction is above this is dropped.</summary>
    public double RougeThreshold { get; init; } = 0.7;

    public int MaxInstancesPerTask { get; init; } = InstancePreparation.DefaultMaxInstances;

    /// <summary>Alpaca mode's requirements text (e.g. Alpaca's prompt.txt); null for <see cref="AlpacaPrompt.DefaultTemplate"/>.</summary>
    public string? PromptTemplate { get; init; }

    /// <summary>The output file: Alpaca JSON (an array) or JSON lines.</summary>
    public required string OutputPath { get; init; }

    /// <summary>Null: from the extension (".jsonl" → lines, else an array).</summary>
    public DataFileLayout? OutputLayout { get; init; }

    /// <summary>Null: beside the output, "OUT.dropped.json".</summary>
    public string? DropReportPath { get; init; }

    /// <summary>Null: beside the output, "OUT.journal.jsonl".</summary>
    public string? JournalPath { get; init; }

    /// <summary>How often the output and drop report are rewritten from the journal during a run.</summary>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(30);

    public string ResolvedJournalPath => JournalPath ?? GenerationJournal.PathFor(OutputPath);
    public string ResolvedDropReportPath => DropReportPath ?? Path.ChangeExtension(OutputPath, ".dropped.json");
    public double ResolvedTemperature => Temperature ?? (Mode == GenerationMode.Alpaca ? 1.0 : SelfInstructPrompts.BootstrapTemperature);
    public double ResolvedTopP => TopP ?? (Mode == GenerationMode.Alpaca ? 1.0 : SelfInstructPrompts.BootstrapTopP);
    public int ResolvedPromptInstructions => PromptInstructions ?? (Mode == GenerationMode.Alpaca ? 3 : 8);
    public int ResolvedMaxTokens => MaxTokens ?? (Mode == GenerationMode.Alpaca ? AlpacaPrompt.MaxTokens : SelfInstructPrompts.BootstrapMaxTokens);
    public string ResolvedPromptTemplate => PromptTemplate ?? AlpacaPrompt.DefaultTemplate;

    /// <summary>Checks the values once, with messages that name the command-line option.</summary>
    public void Validate(int seedTaskCount)
    {
        if (Count < 1)
            throw new ArgumentException("--num must be at least 1");
        if (Batch < 1)
            throw new ArgumentException("--batch must be at least 1");
        if (ResolvedPromptInstructions < 1)
            throw new ArgumentException("--prompt-instructions must be at least 1");
        if (Mode == GenerationMode.Alpaca && ResolvedPromptInstructions > seedTaskCount)
            throw new ArgumentException($"--prompt-instructions {ResolvedPromptInstructions} is more than the {seedTaskCount} seed tasks");
        if (Mode == GenerationMode.SelfInstruct && ResolvedPromptInstructions - 2 > seedTaskCount)
            throw new ArgumentException($"--prompt-instructions {ResolvedPromptInstructions} needs at least {ResolvedPromptInstructions - 2} seed tasks; there are {seedTaskCount}");
        if (ResolvedTemperature is < 0 or > 2 || double.IsNaN(ResolvedTemperature))
            throw new ArgumentException("--temperature must be between 0 and 2");
        if (ResolvedTopP is <= 0 or > 1 || double.IsNaN(ResolvedTopP))
            throw new ArgumentException("--top-p must be in (0, 1]");
        if (ResolvedMaxTokens < 1)
            throw new ArgumentException("--max-tokens must be at least 1");
        if (RougeThreshold is <= 0 or > 1 || double.IsNaN(RougeThreshold))
            throw new ArgumentException("--rouge-threshold must be in (0, 1]");
        if (Concurrency < 1)
            throw new ArgumentException("--concurrency must be at least 1");
        if (MaxInstancesPerTask < 1)
            throw new ArgumentException("the instance limit must be at least 1");
        string output = Path.GetFullPath(OutputPath);
        foreach (var (other, name) in new[] { (ResolvedJournalPath, "journal"), (ResolvedDropReportPath, "drop report") })
            if (Path.GetFullPath(other) == output)
                throw new ArgumentException($"--out {OutputPath} would be overwritten by the {name}: choose another extension");
    }
}

/// <summary>Where a run stands, for a progress line.</summary>
public sealed record GenerationProgress
{
    /// <summary>"generate" (Alpaca), or "bootstrap", "classify", "instances" (Self-Instruct).</summary>
    public required string Stage { get; init; }

    /// <summary>Units of the stage done and wanted: records (Alpaca), instructions (bootstrap) or tasks.</summary>
    public int Done { get; init; }
    public int Target { get; init; }

    /// <summary>Records in the output so far.</summary>
    public int Records { get; init; }

    /// <summary>Candidates and instances dropped so far.</summary>
    public int Dropped { get; init; }

    /// <summary>Teacher answers received, earlier sessions included.</summary>
    public long Answers { get; init; }

    public TeacherUsage Usage { get; init; }
}

/// <summary>How a run ended.</summary>
public sealed record GenerationSummary
{
    public required GenerationProgress Progress { get; init; }
    public required string OutputPath { get; init; }
    public required string DropReportPath { get; init; }
    public required string JournalPath { get; init; }

    /// <summary>Request groups found in the journal at the start (0 for a fresh run).</summary>
    public int ResumedUnits { get; init; }

    /// <summary>Bytes of a partial last journal line cut off at the start (a crash mid-write).</summary>
    public long RepairedBytes { get; init; }
}
