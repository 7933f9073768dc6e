using System.Globalization;
using System.Text;

namespace Camelid.Evaluation.Reports;

/// <summary>The report as tables (what the text, Markdown and HTML formats show), and the text and Markdown renderers.</summary>
public static class ReportTables
{
    public static IReadOnlyList<ReportTable> From(EvaluationReport report)
    {
        var tables = new List<ReportTable>();
        if (report.Single is { } single)
            tables.AddRange(SingleTables(single));
        if (report.Pairwise is { } pairwise)
            tables.AddRange(PairwiseTables(pairwise));
        return tables;
    }

    static IEnumerable<ReportTable> SingleTables(SingleReport single)
    {
        var turns = single.ByTurn.Select(s => s.Turn).Distinct().Order().ToList();
        var turnScores = single.ByTurn.ToDictionary(s => (s.Model, s.Turn), s => s.Score);
        yield return new ReportTable(
            "Mean score (1–10) per model and turn",
            ["model", .. turns.Select(t => $"turn {t}"), "average", "judgments", "failed"],
            single.Overall.Select(m => (IReadOnlyList<string>)[m.Model, .. turns.Select(t => Score(turnScores.GetValueOrDefault((m.Model, t), double.NaN))),
                                                               Score(m.Score), m.Count.ToString(), m.Failed.ToString()]).ToList(),
            $"judge {single.Judge}; {single.Judgments} judgments, {single.Failed} failed (unreadable grade, left out)");

        if (single.ByCategory.Count > 0)
        {
            var categories = single.ByCategory.Select(c => c.Category).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
            var byCategory = single.ByCategory.ToDictionary(c => (c.Model, c.Category), c => c.Score);
            yield return new ReportTable(
                "Mean score per category",
                ["model", .. categories],
                single.Overall.Select(m => (IReadOnlyList<string>)[m.Model, .. categories.Select(c => Score(byCategory.GetValueOrDefault((m.Model, c), double.NaN)))]).ToList());
        }
        if (single.Relative.Count > 0)
            yield return new ReportTable(
                $"Relative score (total as a percentage of {single.Baseline}'s)",
                ["model", "relative score", "model total", "baseline total", "graded turns"],
                single.Relative.Select(r => (IReadOnlyList<string>)[r.Model, $"{r.Percent.ToString("0.0", CultureInfo.InvariantCulture)}%",
                                                                     Number(r.ModelTotal), Number(r.BaselineTotal), r.Count.ToString()]).ToList(),
                "over the (question, turn) pairs both models have a valid grade for, as in Vicuna's evaluation");
    }

    static IEnumerable<ReportTable> PairwiseTables(PairwiseReport pairwise)
    {
        yield return new ReportTable(
            pairwise.Baseline == null ? "Win / loss / tie" : $"Win / loss / tie against {pairwise.Baseline}",
            ["model", "win", "loss", "tie", "win_rate", "loss_rate", "win_rate_adjusted"],
            pairwise.WinRates.Select(r => (IReadOnlyList<string>)[r.Model, r.Win.ToString(), r.Loss.ToString(), r.Tie.ToString(),
                                                                  Rate(r.WinRateValue), Rate(r.LossRate), Rate(r.WinRateAdjusted)]).ToList(),
            $"judge {pairwise.Judge}; {pairwise.Judgments} judgments, {pairwise.Errors} failed (left out); both orders agreed in " +
            $"{pairwise.Consistent} of {pairwise.Judgments - pairwise.Errors} ({Percent(pairwise.ConsistencyRate)}); disagreeing orders count as a tie; " +
            "adjusted win rate = (win + 0.5·tie) / total");
        if (pairwise.Elo is { } elo)
            yield return new ReportTable(
                "Elo ratings",
                ["model", "elo", "95% CI", "bootstrap median", "bradley-terry", "battles"],
                elo.Rows.Select(r => (IReadOnlyList<string>)[r.Model, Number(r.Rating), $"{Number(r.Lower)} – {Number(r.Upper)}", Number(r.Median),
                                                             r.BradleyTerry is { } bt ? Number(bt) : "–", r.Battles.ToString()]).ToList(),
                $"online Elo (K 4, scale 400, base 10, start 1000) over {elo.Battles} battles in file order; interval from {elo.Rounds} bootstrap rounds " +
                $"(seed {elo.Seed}); Bradley–Terry maximum likelihood on the same scale" + (elo.BradleyTerryNote is { } note ? $"; {note}" : ""));
    }

    public static string Score(double value) => double.IsNaN(value) ? "–" : value.ToString("0.00", CultureInfo.InvariantCulture);

    static string Rate(double value) => double.IsNaN(value) ? "–" : value.ToString("0.000", CultureInfo.InvariantCulture);

    static string Percent(double value) => double.IsNaN(value) ? "–" : (100 * value).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    static string Number(double value) => double.IsNaN(value) ? "–" : value.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Aligned columns for a terminal: text left, numbers right.</summary>
    public static string RenderText(EvaluationReport report)
    {
        var text = new StringBuilder();
        foreach (var table in From(report))
        {
            text.AppendLine($"## {table.Title}");
            var widths = table.Headers.Select((h, i) => Math.Max(h.Length, table.Rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
            string Line(IReadOnlyList<string> cells) =>
                string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
            text.AppendLine(Line(table.Headers));
            text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            foreach (var row in table.Rows)
                text.AppendLine(Line(row));
            if (table.Caption != null)
                text.AppendLine($"({table.Caption})");
            text.AppendLine();
        }
        foreach (string note in report.Notes)
            text.AppendLine($"note: {note}");
        return text.ToString();
    }

    public static string RenderMarkdown(EvaluationReport report)
    {
        var text = new StringBuilder();
        foreach (var table in From(report))
        {
            text.AppendLine($"### {table.Title}").AppendLine();
            text.AppendLine("| " + string.Join(" | ", table.Headers.Select(Escape)) + " |");
            text.AppendLine("|" + string.Join("|", table.Headers.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
            foreach (var row in table.Rows)
                text.AppendLine("| " + string.Join(" | ", row.Select(Escape)) + " |");
            text.AppendLine();
            if (table.Caption != null)
                text.AppendLine($"_{Escape(table.Caption)}_").AppendLine();
        }
        foreach (string note in report.Notes)
            text.AppendLine($"> note: {Escape(note)}").AppendLine();
        return text.ToString();
    }

    static string Escape(string cell) => cell.Replace("|", "\\|").Replace("_", "\\_");
}
