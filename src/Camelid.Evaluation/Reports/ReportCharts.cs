using ScottPlot;

namespace Camelid.Evaluation.Reports;

/// <summary>A chart for the HTML report: a PNG and the text that describes it.</summary>
public sealed record ReportChart(string Title, string Description, byte[] Png);

/// <summary>
/// The report's charts, drawn with ScottPlot as PNGs: mean score per category (grouped bars; per turn when no
/// categories are known), win / tie / loss shares (stacked horizontal bars), and Elo ratings with their bootstrap
/// intervals (a point and a line per model).
/// </summary>
public static class ReportCharts
{
    const int Width = 900;

    public static IReadOnlyList<ReportChart> From(EvaluationReport report)
    {
        var charts = new List<ReportChart>();
        if (report.Single is { } single && single.Overall.Count > 0)
            charts.Add(single.ByCategory.Count > 0 ? CategoryBars(single) : TurnBars(single));
        if (report.Pairwise is { } pairwise && pairwise.WinRates.Count > 0)
            charts.Add(WinRateBars(pairwise));
        if (report.Pairwise?.Elo is { Rows.Count: > 0 } elo)
            charts.Add(EloIntervals(elo));
        return charts;
    }

    static ReportChart CategoryBars(SingleReport single)
    {
        var categories = single.ByCategory.Select(c => c.Category).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
        var scores = single.ByCategory.ToDictionary(c => (c.Model, c.Category), c => c.Score);
        var models = single.Overall.Select(m => m.Model).ToList();
        return GroupedBars("Mean score per category", "score (1–10)", categories, models,
                           (model, category) => scores.GetValueOrDefault((model, category), double.NaN),
                           $"Grouped bars: the mean grade of each of {models.Count} models in each of {categories.Count} categories.");
    }

    static ReportChart TurnBars(SingleReport single)
    {
        var turns = single.ByTurn.Select(t => t.Turn).Distinct().Order().ToList();
        var scores = single.ByTurn.ToDictionary(t => (t.Model, t.Turn), t => t.Score);
        var models = single.Overall.Select(m => m.Model).ToList();
        return GroupedBars("Mean score per turn", "score (1–10)", turns.Select(t => $"turn {t}").ToList(), models,
                           (model, group) => scores.GetValueOrDefault((model, int.Parse(group[5..])), double.NaN),
                           $"Grouped bars: the mean grade of each of {models.Count} models in each turn.");
    }

    static ReportChart GroupedBars(string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<string> models,
                                   Func<string, string, double> value, string description)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double slot = 0.8 / models.Count;
        for (int m = 0; m < models.Count; m++)
        {
            var bars = new List<Bar>();
            for (int g = 0; g < groups.Count; g++)
            {
                double v = value(models[m], groups[g]);
                if (double.IsNaN(v))
                    continue;
                bars.Add(new Bar { Position = g - 0.4 + slot * (m + 0.5), Value = v, Size = slot * 0.9, FillColor = palette.GetColor(m), LineWidth = 0 });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = models[m];
        }
        plot.Axes.Bottom.SetTicks(groups.Select((_, i) => (double)i).ToArray(), groups.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = groups.Count > 6 ? 30 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = groups.Count > 6 ? Alignment.MiddleLeft : Alignment.UpperCenter;
        plot.Axes.SetLimitsY(0, 10.5);
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
        return new ReportChart(title, description, plot.GetImageBytes(Width, 460, ImageFormat.Png));
    }

    static ReportChart WinRateBars(PairwiseReport pairwise)
    {
        var plot = new Plot();
        var rows = pairwise.WinRates.Reverse().ToList();
        (string Label, Color Color, Func<WinRate, double> Share)[] parts =
        [
            ("win", Colors.SeaGreen, r => r.WinRateValue),
            ("tie", Colors.LightGray, r => (double)r.Tie / (r.Win + r.Loss + r.Tie)),
            ("loss", Colors.IndianRed, r => r.LossRate),
        ];
        foreach (var (label, color, share) in parts)
        {
            var bars = rows.Select((r, i) =>
            {
                double start = parts.TakeWhile(p => p.Label != label).Sum(p => p.Share(r));
                return new Bar { Position = i, ValueBase = start, Value = start + share(r), FillColor = color, LineWidth = 0, Size = 0.7 };
            }).ToList();
            var plottable = plot.Add.Bars(bars);
            plottable.Horizontal = true;
            plottable.LegendText = label;
        }
        plot.Axes.Left.SetTicks(rows.Select((_, i) => (double)i).ToArray(), rows.Select(r => r.Model).ToArray());
        plot.Axes.SetLimitsX(0, 1);
        plot.Axes.SetLimitsY(-0.6, rows.Count - 0.4);
        string title = pairwise.Baseline == null ? "Win / tie / loss shares" : $"Win / tie / loss against {pairwise.Baseline}";
        plot.Title(title);
        plot.XLabel("share of judged matches");
        plot.ShowLegend(Edge.Right);
        return new ReportChart(title, $"Stacked bars: the share of wins, ties and losses of each of {rows.Count} models.",
                               plot.GetImageBytes(Width, 120 + 50 * rows.Count, ImageFormat.Png));
    }

    static ReportChart EloIntervals(EloReport elo)
    {
        var plot = new Plot();
        var rows = elo.Rows.Reverse().ToList();
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (!double.IsNaN(row.Lower))
            {
                var line = plot.Add.Line(row.Lower, i, row.Upper, i);
                line.LineWidth = 3;
                line.LineColor = Colors.SteelBlue;
            }
            var marker = plot.Add.Marker(row.Rating, i);
            marker.MarkerSize = 12;
            marker.Color = Colors.Navy;
        }
        double low = rows.Select(r => double.IsNaN(r.Lower) ? r.Rating : Math.Min(r.Lower, r.Rating)).Min();
        double high = rows.Select(r => double.IsNaN(r.Upper) ? r.Rating : Math.Max(r.Upper, r.Rating)).Max();
        double pad = Math.Max(5, (high - low) * 0.1);
        plot.Axes.SetLimitsX(low - pad, high + pad);
        plot.Axes.SetLimitsY(-0.6, rows.Count - 0.4);
        plot.Axes.Left.SetTicks(rows.Select((_, i) => (double)i).ToArray(), rows.Select(r => r.Model).ToArray());
        plot.Title("Elo ratings with 95% bootstrap intervals");
        plot.XLabel("Elo");
        return new ReportChart("Elo ratings", $"Points: each of {rows.Count} models' Elo rating; lines: the 2.5%–97.5% bootstrap interval ({elo.Rounds} rounds).",
                               plot.GetImageBytes(Width, 120 + 50 * rows.Count, ImageFormat.Png));
    }
}
