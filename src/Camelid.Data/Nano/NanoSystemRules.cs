namespace Camelid.Data.Nano;

/// <summary>A rule a system prompt sets for the form of every answer.</summary>
public enum NanoSystemRule { Uppercase, Lowercase, StartWithSure, StartWithAnswer, EndWithExclamation }

/// <summary>The system prompts of the system-prompt skill and what each does to a plain answer.</summary>
public static class NanoSystemRules
{
    public static IReadOnlyList<(NanoSystemRule Rule, IReadOnlyList<string> Prompts)> Prompts { get; } =
    [
        (NanoSystemRule.Uppercase, ["Answer in uppercase.", "Always reply in capital letters.", "Write every answer in uppercase letters."]),
        (NanoSystemRule.Lowercase, ["Answer in lowercase.", "Always reply in small letters only.", "Write every answer in lowercase letters."]),
        (NanoSystemRule.StartWithSure, ["Always start with 'Sure:'.", "Begin every answer with 'Sure:'.", "Start each reply with the word 'Sure:'."]),
        (NanoSystemRule.StartWithAnswer, ["Always start with 'Answer:'.", "Begin every reply with 'Answer:'.", "Put 'Answer:' before each answer."]),
        (NanoSystemRule.EndWithExclamation, ["End every answer with an exclamation mark.", "Always finish your reply with '!'.", "Put an exclamation mark at the end of each answer."]),
    ];

    public static string Apply(NanoSystemRule rule, string answer) => rule switch
    {
        NanoSystemRule.Uppercase => answer.ToUpperInvariant(),
        NanoSystemRule.Lowercase => answer.ToLowerInvariant(),
        NanoSystemRule.StartWithSure => "Sure: " + answer,
        NanoSystemRule.StartWithAnswer => "Answer: " + answer,
        NanoSystemRule.EndWithExclamation => answer + "!",
        _ => throw new ArgumentOutOfRangeException(nameof(rule)),
    };

    /// <summary>The rule a system prompt sets, or null when it sets none of them.</summary>
    public static NanoSystemRule? RuleOf(string systemPrompt) =>
        Prompts.FirstOrDefault(p => p.Prompts.Contains(systemPrompt)) is { Prompts: not null } found ? found.Rule : null;
}
