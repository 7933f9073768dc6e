using Camelid.Evaluation.Judgments;

namespace Camelid.Evaluation.Reports;

/// <summary>What one pair judgment counts as, after the position swap.</summary>
public enum PairOutcome { Model1Wins, Model2Wins, Tie, Inconsistent, Error }

public sealed record WinRate(string Model, int Win, int Loss, int Tie, double WinRateValue, double LossRate, double WinRateAdjusted);

public sealed record PairwiseReport(string Judge, string Mode, int Judgments, int Errors, int Consistent, double ConsistencyRate,
                                    IReadOnlyList<WinRate> WinRates, string? Baseline, EloReport? Elo);

/// <summary>
/// Win / loss / tie per model, FastChat's show_result rules: a judgment where either game failed is left out;
/// the two games agree → that winner (or a tie); they disagree → a tie (position bias cancels out). win_rate =
/// win/total, loss_rate = loss/total, win_rate_adjusted = (win + 0.5·tie)/total. The consistency rate is the
/// share of (non-failed) judgments whose two games agree. In pairwise-baseline mode the baseline's own row is
/// left out, since every match involves it.
/// </summary>
public static class PairwiseResults
{
    public static PairOutcome Outcome(PairJudgment j)
    {
        if (j.Failed)
            return PairOutcome.Error;
        if (j.G1Winner != j.G2Winner)
            return PairOutcome.Inconsistent;
        return j.G1Winner switch
        {
            PairJudgment.Model1Wins => PairOutcome.Model1Wins,
            PairJudgment.Model2Wins => PairOutcome.Model2Wins,
            _ => PairOutcome.Tie,
        };
    }

    /// <summary>The judgments that count: one per (question, pair of models, turn), the last one in the file, in file order.</summary>
    public static IReadOnlyList<PairJudgment> Latest(IReadOnlyList<PairJudgment> judgments)
    {
        var last = new Dictionary<(string, string, string, int), int>();
        for (int i = 0; i < judgments.Count; i++)
        {
            var j = judgments[i];
            var (a, b) = string.CompareOrdinal(j.Model1, j.Model2) <= 0 ? (j.Model1, j.Model2) : (j.Model2, j.Model1);
            last[(j.QuestionId.ToString(), a, b, j.Turn)] = i;
        }
        return last.Values.Order().Select(i => judgments[i]).ToList();
    }

    public static PairwiseReport Build(IReadOnlyList<PairJudgment> judgments, string mode, string? baseline, EloOptions? elo)
    {
        var counted = Latest(judgments);
        var tallies = new Dictionary<string, (int Win, int Loss, int Tie)>(StringComparer.Ordinal);
        int errors = 0, consistent = 0;
        void Add(string model, int win, int loss, int tie)
        {
            var t = tallies.GetValueOrDefault(model);
            tallies[model] = (t.Win + win, t.Loss + loss, t.Tie + tie);
        }
        foreach (var j in counted)
        {
            var outcome = Outcome(j);
            if (outcome == PairOutcome.Error)
            {
                errors++;
                continue;
            }
            if (outcome != PairOutcome.Inconsistent)
                consistent++;
            switch (outcome)
            {
                case PairOutcome.Model1Wins:
                    Add(j.Model1, 1, 0, 0);
                    Add(j.Model2, 0, 1, 0);
                    break;
                case PairOutcome.Model2Wins:
                    Add(j.Model2, 1, 0, 0);
                    Add(j.Model1, 0, 1, 0);
                    break;
                default:
                    Add(j.Model1, 0, 0, 1);
                    Add(j.Model2, 0, 0, 1);
                    break;
            }
        }
        var rates = tallies.Where(t => t.Key != baseline).Select(t =>
        {
            var (win, loss, tie) = t.Value;
            double total = win + loss + tie;
            return new WinRate(t.Key, win, loss, tie, win / total, loss / total, (win + 0.5 * tie) / total);
        }).OrderByDescending(r => r.WinRateAdjusted).ThenByDescending(r => r.WinRateValue).ThenBy(r => r.Model, StringComparer.Ordinal).ToList();

        int judged = counted.Count - errors;
        var eloReport = elo == null ? null : EloReport.Build(Battles(counted), elo);
        return new PairwiseReport(string.Join(", ", counted.Select(j => j.Judge.Model).Distinct()), mode, counted.Count, errors, consistent,
                                  judged == 0 ? double.NaN : (double)consistent / judged, rates, baseline, eloReport);
    }

    /// <summary>
    /// Each counted judgment as one battle, in file order: model_1 is "model_a"; the score of model_a is 1 for a
    /// win, 0 for a loss, 0.5 for a tie or disagreeing games.
    /// </summary>
    public static IReadOnlyList<Battle> Battles(IReadOnlyList<PairJudgment> judgments) =>
        judgments.Select(j => (j, Outcome(j))).Where(x => x.Item2 != PairOutcome.Error)
            .Select(x => new Battle(x.j.Model1, x.j.Model2, x.Item2 switch
            {
                PairOutcome.Model1Wins => 1.0,
                PairOutcome.Model2Wins => 0.0,
                _ => 0.5,
            })).ToList();
}
