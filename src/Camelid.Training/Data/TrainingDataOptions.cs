using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Training.Data;

/// <summary>How training data is tokenized, split, packed and ordered.</summary>
public sealed record TrainingDataOptions
{
    /// <summary>
    /// Positions per training sequence (<c>--max-len</c>): the context the model reads. A sequence holds up to
    /// MaxLength + 1 tokens, the last one only as a target. Longer examples are cut and counted.
    /// </summary>
    public required int MaxLength { get; init; }

    /// <summary>The prompt format conversations (ShareGPT, messages) are rendered with. FastChat trains with vicuna by default.</summary>
    public ChatTemplate ChatTemplate { get; init; } = ChatTemplates.Get("vicuna");

    /// <summary>
    /// Skip examples that cannot be rendered (unknown role, roles not alternating, empty conversation …) and count
    /// them in the report, instead of stopping at the first with an <see cref="InvalidExampleException"/>.
    /// </summary>
    public bool SkipInvalid { get; init; }

    /// <summary>Where pretraining documents end in text files.</summary>
    public TextDocumentSplit TextSplit { get; init; } = TextDocumentSplit.BlankLines;

    /// <summary>End each pretraining document with EOS (it always starts with BOS when the tokenizer adds one).</summary>
    public bool EndDocumentsWithEos { get; init; } = true;

    /// <summary>
    /// Pack several short examples into one sequence of up to MaxLength + 1 tokens (greedily, in an order shuffled by
    /// <see cref="Seed"/>). Attention is not blocked between packed examples: a token can attend to the end of the
    /// example before it in the same sequence, as in Hugging Face's simple packing. Each example keeps its own BOS and
    /// mask, so no loss is taken on the first token of the next example.
    /// </summary>
    public bool Pack { get; init; }

    /// <summary>
    /// Fraction of examples held out for validation (<c>--val-split</c>), chosen by <see cref="Seed"/>; at least one
    /// when the fraction is above 0 and there are at least two examples, and never all of them.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>Seeds the validation split, the packing order and each epoch's shuffle.</summary>
    public long Seed { get; init; }

    internal void Validate()
    {
        if (MaxLength < 1)
            throw new ArgumentException($"the maximum length must be at least 1 position, got {MaxLength}");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
            throw new ArgumentException($"the validation fraction must be in [0, 1), got {ValidationFraction}");
        ArgumentNullException.ThrowIfNull(ChatTemplate);
    }
}

/// <summary>
/// An example that cannot be turned into training tokens (unknown role, roles not alternating, empty conversation …).
/// An <see cref="IOException"/>, because the input file is what needs fixing; set
/// <see cref="TrainingDataOptions.SkipInvalid"/> to skip such examples instead.
/// </summary>
public sealed class InvalidExampleException(string sourcePath, string exampleId, string reason)
    : IOException($"{sourcePath}: example {exampleId}: {reason} (fix it, or choose to skip invalid examples)")
{
    public string SourcePath { get; } = sourcePath;
    public string ExampleId { get; } = exampleId;
    public string Reason { get; } = reason;
}
