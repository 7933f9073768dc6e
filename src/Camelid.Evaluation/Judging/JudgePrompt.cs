namespace Camelid.Evaluation.Judging;

public enum JudgeKind { Single, Pairwise }

/// <summary>
/// One judge prompt, in the shape of FastChat's <c>judge_prompts.jsonl</c> records: <c>name</c>, <c>type</c>
/// ("single" or "pairwise"), <c>system_prompt</c>, <c>prompt_template</c> (Python <c>str.format</c> placeholders,
/// see <see cref="PromptTemplate"/>), <c>description</c>, <c>category</c> and <c>output_format</c>
/// ("[[rating]]" for single grades; "[[A]]" or "[[rating_a,rating_b]]" for pairwise verdicts).
/// </summary>
public sealed record JudgePrompt(string Name, JudgeKind Kind, string SystemPrompt, string Template, string OutputFormat,
                                 string Description = "", string Category = "general")
{
    public const string RatingFormat = "[[rating]]";
    public const string VerdictFormat = "[[A]]";
    public const string TwoRatingsFormat = "[[rating_a,rating_b]]";

    /// <summary>Shows a reference answer (uses a <c>{ref_answer…}</c> placeholder).</summary>
    public bool UsesReference => PromptTemplate.Placeholders(Template).Any(p => p.StartsWith("ref_answer", StringComparison.Ordinal));

    /// <summary>Shows earlier turns: a numbered question beyond the first, a whole conversation, or a FastChat "-multi-turn" name.</summary>
    public bool IsMultiTurn => Name.EndsWith("multi-turn", StringComparison.Ordinal)
                               || PromptTemplate.Placeholders(Template).Any(p => p.StartsWith("conversation", StringComparison.Ordinal) || p == "question_2");

    /// <summary>Whether the template can show turn <paramref name="turn"/> of a conversation (its numbered question, or a whole conversation).</summary>
    public bool CanShowTurn(int turn)
    {
        var placeholders = PromptTemplate.Placeholders(Template);
        return turn == 1
            ? placeholders.Contains("question") || placeholders.Contains("question_1") || placeholders.Any(p => p.StartsWith("conversation", StringComparison.Ordinal))
            : placeholders.Contains($"question_{turn}") || placeholders.Any(p => p.StartsWith("conversation", StringComparison.Ordinal));
    }
}
