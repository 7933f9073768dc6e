using System.Text.RegularExpressions;
using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>Min, mean, percentiles and max of a list of lengths (nearest-rank percentiles).</summary>
public sealed record LengthSummary(int Count, int Min, double Mean, int Median, int P90, int P99, int Max, long Total)
{
    public static LengthSummary Of(List<int> values)
    {
        if (values.Count == 0)
            return new LengthSummary(0, 0, 0, 0, 0, 0, 0, 0);
        var sorted = values.Order().ToArray();
        int Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        long total = sorted.Sum(v => (long)v);
        return new LengthSummary(sorted.Length, sorted[0], (double)total / sorted.Length, Rank(0.5), Rank(0.9), Rank(0.99), sorted[^1], total);
    }
}

/// <summary>Equal-width bins starting at 0; the width is a "nice" number (1, 2 or 5 × 10^k) giving at most the asked bin count.</summary>
public sealed record LengthHistogram(int BinWidth, IReadOnlyList<int> Counts)
{
    public static LengthHistogram Of(IReadOnlyList<int> values, int maxBins)
    {
        if (values.Count == 0)
            return new LengthHistogram(1, []);
        int max = values.Max();
        int width = NiceWidth((max + 1.0) / Math.Max(1, maxBins));
        var counts = new int[max / width + 1];
        foreach (int v in values)
            counts[v / width]++;
        return new LengthHistogram(width, counts);
    }

    static int NiceWidth(double raw)
    {
        if (raw <= 1)
            return 1;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (double step in (ReadOnlySpan<double>)[1, 2, 5, 10])
            if (step * magnitude >= raw)
                return (int)(step * magnitude);
        return (int)(10 * magnitude);
    }
}

/// <summary>What <c>camelid data stats</c> reports about a file of conversations (any of the three formats).</summary>
public sealed record ConversationStatistics(
    int Records,
    IReadOnlyDictionary<string, int> Formats,
    IReadOnlyDictionary<string, int> TurnsByRole,
    IReadOnlyDictionary<int, int> TurnsPerConversation,
    int EmptyTurns,
    string LengthUnit,
    LengthSummary ConversationLengths,
    IReadOnlyDictionary<string, LengthSummary> TurnLengthsByRole,
    LengthHistogram Histogram)
{
    public int Turns => TurnsByRole.Values.Sum();
}

/// <summary>
/// Computes <see cref="ConversationStatistics"/> in one streaming pass, keeping one int per conversation and per
/// turn for the percentiles. Lengths are tokens when a <see cref="ConversationTokenCounter"/> is given (the texts'
/// tokens, plus the template's overhead if it has a template), else words (runs of non-blank characters; a run of
/// Chinese or Japanese text without spaces is one "word", so use tokens for those).
/// </summary>
public static partial class ConversationStatisticsBuilder
{
    const int BatchSize = 256;

    public static async Task<ConversationStatistics> ComputeAsync(string path, ConversationTokenCounter? counter, int histogramBins = 20,
                                                                  CancellationToken cancellation = default)
    {
        var formats = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var turnsByRole = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var turnsPerConversation = new SortedDictionary<int, int>();
        var conversationLengths = new List<int>();
        var turnLengths = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        int emptyTurns = 0, records = 0;
        var batch = new List<SourceRecord>(BatchSize);
        var lengths = new (int Conversation, int[] Turns)[BatchSize];

        void Flush()
        {
            Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = cancellation }, i => lengths[i] = Measure(batch[i].Conversation, counter));
            for (int i = 0; i < batch.Count; i++)
            {
                var conversation = batch[i].Conversation;
                Increment(formats, batch[i].Format.ToString().ToLowerInvariant());
                Increment(turnsPerConversation, conversation.Turns.Count);
                conversationLengths.Add(lengths[i].Conversation);
                for (int t = 0; t < conversation.Turns.Count; t++)
                {
                    var turn = conversation.Turns[t];
                    string role = turn.Role ?? (turn.From.Length > 0 ? turn.From : "(none)");
                    Increment(turnsByRole, role);
                    if (!turnLengths.TryGetValue(role, out var list))
                        turnLengths[role] = list = [];
                    list.Add(lengths[i].Turns[t]);
                    if (turn.Value.Trim().Length == 0)
                        emptyTurns++;
                }
            }
            records += batch.Count;
            batch.Clear();
        }

        await foreach (var record in ConversationFile.ReadRecordsAsync(path, cancellation))
        {
            batch.Add(record);
            if (batch.Count == BatchSize)
                Flush();
        }
        Flush();
        return new ConversationStatistics(records, formats, turnsByRole, turnsPerConversation, emptyTurns,
            counter != null ? "tokens" : "words", LengthSummary.Of(conversationLengths),
            turnLengths.ToDictionary(p => p.Key, p => LengthSummary.Of(p.Value)),
            LengthHistogram.Of(conversationLengths, histogramBins));
    }

    static (int, int[]) Measure(ShareGptConversation conversation, ConversationTokenCounter? counter)
    {
        var turns = conversation.Turns.Select(t => counter?.Count(t.Value) ?? Words().Count(t.Value)).ToArray();
        if (counter == null)
            return (turns.Sum(), turns);
        bool shaped = conversation.Turns.All(t => t.Role != null); // the template needs known roles
        return (shaped ? counter.CountConversation(conversation.Turns, turns) : turns.Sum(), turns);
    }

    static void Increment<TKey>(SortedDictionary<TKey, int> counts, TKey key) where TKey : notnull =>
        counts[key] = counts.GetValueOrDefault(key) + 1;

    [GeneratedRegex(@"\S+")]
    private static partial Regex Words();
}
