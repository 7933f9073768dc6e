using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Reports;

public sealed record ModelScore(string Model, double Score, int Count, int Failed);

public sealed record ModelTurnScore(string Model, int Turn, double Score, int Count);

public sealed record ModelCategoryScore(string Model, string Category, double Score, int Count);

/// <summary>
/// Vicuna's relative score: the model's total grade as a percentage of the baseline's, over the (question, turn)
/// pairs both have a valid grade for.
/// </summary>
public sealed record RelativeScore(string Model, string Baseline, double ModelTotal, double BaselineTotal, double Percent, int Count);

public sealed record SingleReport(string Judge, int Judgments, int Failed, IReadOnlyList<ModelScore> Overall, IReadOnlyList<ModelTurnScore> ByTurn,
                                  IReadOnlyList<ModelCategoryScore> ByCategory, IReadOnlyList<RelativeScore> Relative, string? Baseline);

/// <summary>
/// Aggregates single grades as FastChat's show_result does: failed judgments (score -1) are left out, then the
/// mean grade per model and turn, per model and category (when the questions' categories are known) and over
/// everything. A (question, model, turn) judged more than once counts once, with its last judgment.
/// </summary>
public static class SingleScores
{
    public static SingleReport Build(IReadOnlyList<SingleJudgment> judgments, IReadOnlyDictionary<QuestionId, string>? categories, string? baseline)
    {
        var latest = new Dictionary<(QuestionId, string, int), SingleJudgment>();
        foreach (var j in judgments)
            latest[(j.QuestionId, j.Model, j.Turn)] = j;
        var all = latest.Values.ToList();
        var valid = all.Where(j => !j.Failed).ToList();
        string judge = string.Join(", ", all.Select(j => j.Judge.Model).Distinct());

        var overall = all.GroupBy(j => j.Model)
            .Select(g => new ModelScore(g.Key, Mean(g.Where(j => !j.Failed)), g.Count(j => !j.Failed), g.Count(j => j.Failed)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Model, StringComparer.Ordinal).ToList();
        var byTurn = valid.GroupBy(j => (j.Model, j.Turn))
            .Select(g => new ModelTurnScore(g.Key.Model, g.Key.Turn, Mean(g), g.Count()))
            .OrderBy(s => s.Turn).ThenByDescending(s => s.Score).ThenBy(s => s.Model, StringComparer.Ordinal).ToList();
        var byCategory = categories == null ? [] : valid.Where(j => categories.ContainsKey(j.QuestionId))
            .GroupBy(j => (j.Model, Category: categories[j.QuestionId]))
            .Select(g => new ModelCategoryScore(g.Key.Model, g.Key.Category, Mean(g), g.Count()))
            .OrderBy(s => s.Category, StringComparer.Ordinal).ThenByDescending(s => s.Score).ThenBy(s => s.Model, StringComparer.Ordinal).ToList();

        var relative = new List<RelativeScore>();
        if (baseline != null)
        {
            var baselineScores = valid.Where(j => j.Model == baseline).ToDictionary(j => (j.QuestionId, j.Turn), j => j.Score);
            if (baselineScores.Count == 0)
                throw new ArgumentException($"--baseline {baseline}: no valid grades for that model in the judgments");
            foreach (var group in valid.Where(j => j.Model != baseline).GroupBy(j => j.Model))
            {
                var paired = group.Where(j => baselineScores.ContainsKey((j.QuestionId, j.Turn))).ToList();
                if (paired.Count == 0)
                    continue;
                double modelTotal = paired.Sum(j => j.Score);
                double baselineTotal = paired.Sum(j => baselineScores[(j.QuestionId, j.Turn)]);
                relative.Add(new RelativeScore(group.Key, baseline, modelTotal, baselineTotal, 100 * modelTotal / baselineTotal, paired.Count));
            }
            relative = relative.OrderByDescending(r => r.Percent).ThenBy(r => r.Model, StringComparer.Ordinal).ToList();
        }
        return new SingleReport(judge, all.Count, all.Count - valid.Count, overall, byTurn, byCategory, relative, baseline);
    }

    static double Mean(IEnumerable<SingleJudgment> judgments)
    {
        double sum = 0;
        int n = 0;
        foreach (var j in judgments)
        {
            sum += j.Score;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }
}
