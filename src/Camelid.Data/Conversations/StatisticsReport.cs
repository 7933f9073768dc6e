using System.Globalization;
using System.Text;

namespace Camelid.Data.Conversations;

/// <summary>The text `camelid data stats` prints: totals, turn counts, length summaries and two histograms drawn with bars.</summary>
public static class StatisticsReport
{
    const int BarWidth = 40;

    public static string Format(ConversationStatistics stats, string path)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{path}: {stats.Records} records ({Join(stats.Formats)})\n");
        text.Append(CultureInfo.InvariantCulture, $"turns: {stats.Turns} ({Join(stats.TurnsByRole)})");
        if (stats.EmptyTurns > 0)
            text.Append(CultureInfo.InvariantCulture, $", {stats.EmptyTurns} empty");
        text.Append('\n');

        text.Append("\nturns per conversation:\n");
        int most = stats.TurnsPerConversation.Values.DefaultIfEmpty(0).Max();
        foreach (var (turns, count) in stats.TurnsPerConversation)
            text.Append(CultureInfo.InvariantCulture, $"  {turns,6}  {Bar(count, most)} {count}\n");

        text.Append(CultureInfo.InvariantCulture, $"\nlength in {stats.LengthUnit}:\n");
        text.Append(CultureInfo.InvariantCulture, $"  {"",-14}{"count",8}{"min",8}{"mean",10}{"median",8}{"p90",8}{"p99",8}{"max",8}{"total",12}\n");
        Summary(text, "conversation", stats.ConversationLengths);
        foreach (var (role, summary) in stats.TurnLengthsByRole)
            Summary(text, role + " turn", summary);

        var histogram = stats.Histogram;
        text.Append(CultureInfo.InvariantCulture, $"\nconversation length histogram ({stats.LengthUnit}, bins of {histogram.BinWidth}):\n");
        int tallest = histogram.Counts.DefaultIfEmpty(0).Max();
        int labelWidth = (histogram.Counts.Count * histogram.BinWidth).ToString(CultureInfo.InvariantCulture).Length;
        for (int i = 0; i < histogram.Counts.Count; i++)
        {
            string from = (i * histogram.BinWidth).ToString(CultureInfo.InvariantCulture).PadLeft(labelWidth);
            string to = ((i + 1) * histogram.BinWidth - 1).ToString(CultureInfo.InvariantCulture).PadLeft(labelWidth);
            text.Append(CultureInfo.InvariantCulture, $"  {from}–{to}  {Bar(histogram.Counts[i], tallest)} {histogram.Counts[i]}\n");
        }
        return text.ToString();
    }

    static void Summary(StringBuilder text, string label, LengthSummary s) =>
        text.Append(CultureInfo.InvariantCulture,
            $"  {label,-14}{s.Count,8}{s.Min,8}{s.Mean,10:F1}{s.Median,8}{s.P90,8}{s.P99,8}{s.Max,8}{s.Total,12}\n");

    static string Join<TKey>(IReadOnlyDictionary<TKey, int> counts) where TKey : notnull =>
        string.Join(", ", counts.Select(p => $"{p.Key} {p.Value}"));

    // At least one block for any non-zero count, so rare bins stay visible.
    static string Bar(int count, int max) =>
        new string('█', count == 0 || max == 0 ? 0 : Math.Max(1, (int)Math.Round((double)count / max * BarWidth))).PadRight(BarWidth);
}
