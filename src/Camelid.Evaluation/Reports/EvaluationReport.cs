namespace Camelid.Evaluation.Reports;

/// <summary>Everything <c>camelid eval show</c> prints: single-grade results, pairwise results, or both, and notes for the reader.</summary>
public sealed record EvaluationReport(string Source, SingleReport? Single, PairwiseReport? Pairwise, IReadOnlyList<string> Notes);

/// <summary>A titled grid of already formatted cells, rendered as text, Markdown or HTML.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, string? Caption = null);
