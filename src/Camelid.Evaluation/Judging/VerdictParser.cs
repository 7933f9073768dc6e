using System.Globalization;
using System.Text.RegularExpressions;

namespace Camelid.Evaluation.Judging;

/// <summary>A single grade read from a judgment: <see cref="Score"/> 1–10, or null with the reason it could not be read.</summary>
public readonly record struct RatingVerdict(double? Score, string? Failure)
{
    public bool Failed => Score == null;
}

/// <summary>Which answer a pairwise judgment prefers as shown to the judge: "A", "B" or "tie"; null with the reason when unreadable.</summary>
public readonly record struct PairVerdict(string? Winner, string? Failure)
{
    public const string A = "A", B = "B", Tie = "tie";

    public bool Failed => Winner == null;
}

/// <summary>
/// Reads verdicts from judge replies. Nothing is guessed: a reply with no verdict, with several different
/// verdicts, or with a grade outside 1–10 is a failure (recorded, shown, excluded from the means), never a
/// best guess. FastChat takes the first match; Camelid also takes repeated identical verdicts, but refuses
/// contradictory ones.
/// <list type="bullet">
/// <item>grade: <c>[[N]]</c> (N an integer or decimal); only when there is none, the looser <c>[N]</c>, as FastChat's backup pattern;</item>
/// <item>verdict: <c>[[A]]</c>, <c>[[B]]</c>, <c>[[C]]</c> (C is a tie);</item>
/// <item>two grades: <c>[[a,b]]</c> (looser <c>[a,b]</c>): the higher wins; within <see cref="TieDelta"/> it is a tie, as FastChat's TIE_DELTA.</item>
/// </list>
/// </summary>
public static partial class VerdictParser
{
    public const double MinRating = 1, MaxRating = 10, TieDelta = 0.1;

    [GeneratedRegex(@"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]")]
    private static partial Regex DoubleBracketRating();

    [GeneratedRegex(@"(?<!\[)\[\s*(\d+(?:\.\d+)?)\s*\](?!\])")]
    private static partial Regex SingleBracketRating();

    [GeneratedRegex(@"\[\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]\]")]
    private static partial Regex DoubleBracketTwoRatings();

    [GeneratedRegex(@"(?<!\[)\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\](?!\])")]
    private static partial Regex SingleBracketTwoRatings();

    [GeneratedRegex(@"\[\[([ABC])\]\]")]
    private static partial Regex Verdict();

    public static RatingVerdict ParseRating(string judgment)
    {
        var matches = DoubleBracketRating().Matches(judgment);
        if (matches.Count == 0)
            matches = SingleBracketRating().Matches(judgment);
        if (matches.Count == 0)
            return new RatingVerdict(null, "no [[rating]] in the judgment");
        var values = matches.Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().ToList();
        if (values.Count > 1)
            return new RatingVerdict(null, $"several different ratings ({string.Join(", ", values.Select(Show))})");
        if (values[0] is < MinRating or > MaxRating)
            return new RatingVerdict(null, $"rating {Show(values[0])} is outside {MinRating}–{MaxRating}");
        return new RatingVerdict(values[0], null);
    }

    public static PairVerdict ParsePair(string judgment, string outputFormat) =>
        outputFormat == JudgePrompt.TwoRatingsFormat ? ParseTwoRatings(judgment) : ParseVerdict(judgment);

    public static PairVerdict ParseVerdict(string judgment)
    {
        var letters = Verdict().Matches(judgment).Select(m => m.Groups[1].Value).Distinct().ToList();
        if (letters.Count == 0)
            return new PairVerdict(null, "no [[A]], [[B]] or [[C]] in the judgment");
        if (letters.Count > 1)
            return new PairVerdict(null, $"several different verdicts ({string.Join(", ", letters.Select(l => $"[[{l}]]"))})");
        return new PairVerdict(letters[0] switch { "A" => PairVerdict.A, "B" => PairVerdict.B, _ => PairVerdict.Tie }, null);
    }

    public static PairVerdict ParseTwoRatings(string judgment)
    {
        var matches = DoubleBracketTwoRatings().Matches(judgment);
        if (matches.Count == 0)
            matches = SingleBracketTwoRatings().Matches(judgment);
        if (matches.Count == 0)
            return new PairVerdict(null, "no [[rating_a,rating_b]] in the judgment");
        var pairs = matches.Select(m => (A: double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                                          B: double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))).Distinct().ToList();
        if (pairs.Count > 1)
            return new PairVerdict(null, $"several different rating pairs ({string.Join(", ", pairs.Select(p => $"{Show(p.A)},{Show(p.B)}"))})");
        var (a, b) = pairs[0];
        foreach (double rating in (double[])[a, b])
            if (rating is < MinRating or > MaxRating)
                return new PairVerdict(null, $"rating {Show(rating)} is outside {MinRating}–{MaxRating}");
        return new PairVerdict(Math.Abs(a - b) <= TieDelta ? PairVerdict.Tie : a > b ? PairVerdict.A : PairVerdict.B, null);
    }

    static string Show(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
