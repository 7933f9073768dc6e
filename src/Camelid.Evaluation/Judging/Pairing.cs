using Camelid.Evaluation.Judgments;

namespace Camelid.Evaluation.Judging;

public enum JudgeMode { Single, PairwiseBaseline, PairwiseAll }

/// <summary>
/// Which models meet, and the position swap. Pairwise-baseline pairs every model with the baseline
/// (model_1 = the model, model_2 = the baseline, as FastChat); pairwise-all pairs every two models once, in
/// name order. Each pair is judged twice: game 1 shows model_1 as assistant A, game 2 shows model_2 as A, so
/// a judge that prefers a position cannot favour either model.
/// </summary>
public static class Pairing
{
    public static IReadOnlyList<(string Model1, string Model2)> Pairs(JudgeMode mode, IReadOnlyList<string> models, string? baseline)
    {
        var sorted = models.Distinct().OrderBy(m => m, StringComparer.Ordinal).ToList();
        if (mode == JudgeMode.PairwiseBaseline)
        {
            if (baseline == null)
                throw new ArgumentException("--mode pairwise-baseline needs --baseline MODEL");
            return sorted.Where(m => m != baseline).Select(m => (m, baseline)).ToList();
        }
        var pairs = new List<(string, string)>();
        for (int i = 0; i < sorted.Count; i++)
            for (int j = i + 1; j < sorted.Count; j++)
                pairs.Add((sorted[i], sorted[j]));
        return pairs;
    }

    /// <summary>
    /// The winner of one game in the file's terms. <paramref name="verdict"/> is what the judge said about the
    /// positions ("A", "B", "tie", or null for an unreadable judgment); <paramref name="swapped"/> is true for
    /// game 2, where model_2 was shown as A.
    /// </summary>
    public static string Winner(string? verdict, bool swapped) => verdict switch
    {
        PairVerdict.A => swapped ? PairJudgment.Model2Wins : PairJudgment.Model1Wins,
        PairVerdict.B => swapped ? PairJudgment.Model1Wins : PairJudgment.Model2Wins,
        PairVerdict.Tie => PairJudgment.Tie,
        _ => PairJudgment.Error,
    };
}
