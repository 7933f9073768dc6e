using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Camelid.Training.Data;

/// <summary>Examples left out for one reason, with the ids of the first few (to find them in the file).</summary>
public sealed record SkipReport(string Reason, int Count, IReadOnlyList<string> FirstIds);

/// <summary>What one <see cref="DataSource"/> contributed.</summary>
public sealed record SourceReport
{
    public required string Path { get; init; }
    /// <summary>The format used (the detected one when the source said auto).</summary>
    public required TrainingDataFormat Format { get; init; }
    public string? QualityTag { get; init; }
    /// <summary>Records read (JSON formats) or documents read (text).</summary>
    public int Read { get; init; }
    /// <summary>Examples written to the cache (text: fixed-length sequences).</summary>
    public int Examples { get; init; }
    /// <summary>Examples cut to the maximum length.</summary>
    public int Truncated { get; init; }
    /// <summary>Conversations whose last, unanswered user turn was dropped.</summary>
    public int TrailingUserTurnsDropped { get; init; }
    public long Tokens { get; init; }
    /// <summary>Tokens that are targets (the loss is taken on them).</summary>
    public long TrainedTokens { get; init; }
    public IReadOnlyList<SkipReport> Skipped { get; init; } = [];
}

/// <summary>
/// What preparing the training data did: per source, examples read, skipped (by reason), truncated; totals of tokens
/// and trained tokens; and the sequences the examples became (after packing) on each side of the validation split.
/// </summary>
public sealed record DataReport
{
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    public required IReadOnlyList<SourceReport> Sources { get; init; }
    /// <summary>Positions per sequence (<c>--max-len</c>); a sequence holds up to MaxLength + 1 tokens.</summary>
    public int MaxLength { get; init; }
    public bool Packed { get; init; }
    public int TrainSequences { get; init; }
    public int ValidationSequences { get; init; }

    public int Examples => Sources.Sum(s => s.Examples);
    public int Skipped => Sources.Sum(s => s.Skipped.Sum(r => r.Count));
    public int Truncated => Sources.Sum(s => s.Truncated);
    public long Tokens => Sources.Sum(s => s.Tokens);
    public long TrainedTokens => Sources.Sum(s => s.TrainedTokens);
    /// <summary>Sequences after packing (without packing, one per example), training and validation together.</summary>
    public int Sequences => TrainSequences + ValidationSequences;

    /// <summary>A few lines for a person: one per source, its skip reasons, then the totals.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var s in Sources)
        {
            text.Append($"{s.Path} ({s.Format.ToString().ToLowerInvariant()}{(s.QualityTag != null ? ", tag " + s.QualityTag : "")}): ")
                .Append($"{s.Read} read, {s.Examples} examples, {s.Truncated} truncated");
            if (s.TrailingUserTurnsDropped > 0)
                text.Append($", {s.TrailingUserTurnsDropped} trailing user turns dropped");
            text.Append($", {s.Tokens} tokens ({s.TrainedTokens} trained)\n");
            foreach (var skip in s.Skipped)
                text.Append($"  skipped {skip.Count}: {skip.Reason} (e.g. {string.Join(", ", skip.FirstIds)})\n");
        }
        text.Append($"{Examples} examples, {Skipped} skipped, {Truncated} truncated to {MaxLength} positions; ")
            .Append($"{Tokens} tokens, {TrainedTokens} trained; ")
            .Append($"{Sequences} sequences{(Packed ? " after packing" : "")} ({TrainSequences} training, {ValidationSequences} validation)");
        return text.ToString();
    }
}
