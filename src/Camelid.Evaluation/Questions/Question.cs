namespace Camelid.Evaluation.Questions;

/// <summary>
/// One benchmark question: its user turns (one for Vicuna-80, two for MT-bench) and, for math, reasoning and
/// coding, optionally a reference answer per turn (FastChat's <c>reference</c> field, or a reference answer file).
/// </summary>
public sealed record Question(QuestionId Id, string Category, IReadOnlyList<string> Turns, IReadOnlyList<string>? Reference = null);
