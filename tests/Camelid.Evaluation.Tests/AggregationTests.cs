using Camelid.Evaluation.Judging;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;
using Camelid.Evaluation.Reports;

namespace Camelid.Evaluation.Tests;

/// <summary>Every expectation below is worked out by hand in the comments, from the fixture's few judgments.</summary>
public class AggregationTests
{
    static readonly JudgeId Judge = new("gpt-4", "single-v1");

    static SingleJudgment Grade(int question, string model, int turn, double score) =>
        new(QuestionId.Number(question), model, Judge, "", "", score, turn, 0);

    static PairJudgment Match(int question, string model1, string model2, string g1, string g2, int turn = 1) =>
        new(QuestionId.Number(question), model1, model2, g1, g2, new JudgeId("gpt-4", "pair-v2"), "", "", "", "", turn, 0);

    [Fact]
    public void Single_means_per_turn_category_and_overall_leave_failures_out_and_count_the_last_duplicate()
    {
        var judgments = new[]
        {
            Grade(1, "m1", 1, 8), Grade(1, "m1", 2, 6), Grade(2, "m1", 1, -1), Grade(2, "m1", 2, 9),
            Grade(1, "m2", 1, 10), // superseded by the later judgment of the same (question, model, turn)
            Grade(1, "m2", 1, 4), Grade(1, "m2", 2, 5), Grade(2, "m2", 1, 7), Grade(2, "m2", 2, 3),
        };
        var categories = new Dictionary<QuestionId, string> { [QuestionId.Number(1)] = "writing", [QuestionId.Number(2)] = "math" };
        var report = SingleScores.Build(judgments, categories, baseline: "m2");

        Assert.Equal(8, report.Judgments);
        Assert.Equal(1, report.Failed);
        // m1: (8 + 6 + 9) / 3 = 7.667 with one failure; m2: (4 + 5 + 7 + 3) / 4 = 4.75.
        Assert.Equal(["m1", "m2"], report.Overall.Select(s => s.Model));
        Assert.Equal(23.0 / 3, report.Overall[0].Score, 12);
        Assert.Equal((3, 1), (report.Overall[0].Count, report.Overall[0].Failed));
        Assert.Equal(4.75, report.Overall[1].Score, 12);
        // turn 1: m1 8 (q2 failed), m2 (4 + 7) / 2 = 5.5; turn 2: m1 (6 + 9) / 2 = 7.5, m2 (5 + 3) / 2 = 4.
        var byTurn = report.ByTurn.ToDictionary(s => (s.Model, s.Turn), s => s.Score);
        Assert.Equal(8, byTurn[("m1", 1)]);
        Assert.Equal(5.5, byTurn[("m2", 1)]);
        Assert.Equal(7.5, byTurn[("m1", 2)]);
        Assert.Equal(4, byTurn[("m2", 2)]);
        // writing (q1): m1 (8 + 6) / 2 = 7, m2 (4 + 5) / 2 = 4.5; math (q2): m1 9, m2 (7 + 3) / 2 = 5.
        var byCategory = report.ByCategory.ToDictionary(s => (s.Model, s.Category), s => s.Score);
        Assert.Equal(7, byCategory[("m1", "writing")]);
        Assert.Equal(4.5, byCategory[("m2", "writing")]);
        Assert.Equal(9, byCategory[("m1", "math")]);
        Assert.Equal(5, byCategory[("m2", "math")]);
        // Relative to m2 over the turns both graded: (q1,1) 8 vs 4, (q1,2) 6 vs 5, (q2,2) 9 vs 3 → 23 / 12 = 191.67%.
        var relative = Assert.Single(report.Relative);
        Assert.Equal(("m1", "m2", 23.0, 12.0, 3), (relative.Model, relative.Baseline, relative.ModelTotal, relative.BaselineTotal, relative.Count));
        Assert.Equal(100 * 23.0 / 12, relative.Percent, 9);
    }

    [Fact]
    public void Win_rates_count_disagreeing_orders_as_ties_and_leave_failed_judgments_out()
    {
        var judgments = new[]
        {
            Match(1, "A", "B", "model_1", "model_1"),  // A wins
            Match(2, "A", "B", "model_2", "model_2"),  // B wins
            Match(3, "A", "B", "model_1", "model_2"),  // the orders disagree: tie
            Match(4, "A", "B", "tie", "tie"),          // tie, consistent
            Match(5, "A", "B", "error", "model_1"),    // one game unreadable: left out
            Match(6, "A", "C", "model_1", "model_1"),  // A wins
        };
        var report = PairwiseResults.Build(judgments, "pairwise-all", baseline: null, elo: null);

        Assert.Equal((6, 1, 4), (report.Judgments, report.Errors, report.Consistent));
        Assert.Equal(0.8, report.ConsistencyRate, 12);  // 4 of the 5 readable judgments agree in both orders
        var rates = report.WinRates.ToDictionary(r => r.Model);
        // A: win 2, loss 1, tie 2 of 5 → 0.4, 0.2, (2 + 1) / 5 = 0.6
        Assert.Equal((2, 1, 2), (rates["A"].Win, rates["A"].Loss, rates["A"].Tie));
        Assert.Equal((0.4, 0.2, 0.6), (rates["A"].WinRateValue, rates["A"].LossRate, rates["A"].WinRateAdjusted));
        // B: win 1, loss 1, tie 2 of 4 → 0.25, 0.25, 0.5;  C: lost its only match → 0, 1, 0
        Assert.Equal((1, 1, 2), (rates["B"].Win, rates["B"].Loss, rates["B"].Tie));
        Assert.Equal((0.25, 0.25, 0.5), (rates["B"].WinRateValue, rates["B"].LossRate, rates["B"].WinRateAdjusted));
        Assert.Equal((0.0, 1.0, 0.0), (rates["C"].WinRateValue, rates["C"].LossRate, rates["C"].WinRateAdjusted));
        Assert.Equal(["A", "B", "C"], report.WinRates.Select(r => r.Model));

        var againstBaseline = PairwiseResults.Build(judgments.Take(5).ToList(), "pairwise-baseline", baseline: "B", elo: null);
        Assert.Equal("A", Assert.Single(againstBaseline.WinRates).Model);
    }

    [Fact]
    public void Position_swap_maps_each_game_back_to_the_models()
    {
        // Game 1 shows model_1 as A; game 2 shows model_2 as A.
        Assert.Equal("model_1", Pairing.Winner("A", swapped: false));
        Assert.Equal("model_2", Pairing.Winner("B", swapped: false));
        Assert.Equal("model_2", Pairing.Winner("A", swapped: true));
        Assert.Equal("model_1", Pairing.Winner("B", swapped: true));
        Assert.Equal("tie", Pairing.Winner("tie", swapped: true));
        Assert.Equal("error", Pairing.Winner(null, swapped: false));
        // A judge that always says "A" favours a position, not a model: the two games disagree, which counts as a tie.
        var biased = Match(1, "x", "y", Pairing.Winner("A", false), Pairing.Winner("A", true));
        Assert.Equal(PairOutcome.Inconsistent, PairwiseResults.Outcome(biased));
    }

    [Fact]
    public void Pairs_are_every_model_against_the_baseline_or_every_two_models_once()
    {
        Assert.Equal([("a", "base"), ("c", "base")], Pairing.Pairs(JudgeMode.PairwiseBaseline, ["c", "base", "a"], "base"));
        Assert.Equal([("a", "b"), ("a", "c"), ("b", "c")], Pairing.Pairs(JudgeMode.PairwiseAll, ["c", "b", "a"], null));
    }

    [Fact]
    public void Online_elo_matches_a_hand_computation()
    {
        // K = 4, scale 400, base 10, start 1000 (FastChat's compute_elo).
        // 1. A beats B at 1000/1000: E = 0.5 → A 1002, B 998.
        // 2. A ties B: E_A = 1/(1 + 10^(-4/400)) = 0.5057562 → A = 1002 + 4(0.5 − 0.5057562) = 1001.9769752, B = 998.0230248.
        // 3. B beats C (1000): E_B = 1/(1 + 10^((1000 − 998.0230248)/400)) = 0.4971549 → B = 998.0230248 + 4(1 − 0.4971549) = 1000.0344051,
        //    C = 1000 + 4(0 − 0.5028451) = 997.9886197.
        var battles = new[] { new Battle("A", "B", 1), new Battle("A", "B", 0.5), new Battle("B", "C", 1) };
        var ratings = EloRatings.Compute(battles, new EloOptions());
        Assert.Equal(1001.9769752, ratings["A"], 6);
        Assert.Equal(1000.0344051, ratings["B"], 6);
        Assert.Equal(997.9886197, ratings["C"], 6);
        Assert.Equal(3000, ratings.Values.Sum(), 9); // every update moves as much rating to one side as it takes from the other
    }

    [Fact]
    public void Bootstrap_intervals_come_from_the_four_possible_orders_of_two_battles()
    {
        // Two battles, A won one and lost one. A resample draws two of them with replacement, so A's rating is one of:
        // win, win → 1003.9769752; win, loss → 999.9769752; loss, win → 1000.0230248; loss, loss → 996.0230248
        // (each with probability 1/4). The 2.5% and 97.5% quantiles of 1000 rounds are therefore the two extremes.
        var battles = new[] { new Battle("A", "B", 1), new Battle("A", "B", 0) };
        var options = new EloOptions { BootstrapRounds = 1000, Seed = 42 };
        var samples = EloRatings.Bootstrap(battles, options);
        double[] possible = [1003.9769752, 999.9769752, 1000.0230248, 996.0230248];
        Assert.Equal(1000, samples["A"].Count);
        Assert.All(samples["A"], r => Assert.Contains(possible, p => Math.Abs(p - r) < 1e-6));
        foreach (double p in possible)
            Assert.InRange(samples["A"].Count(r => Math.Abs(p - r) < 1e-6), 200, 300);

        var report = EloReport.Build(battles, options);
        var a = report.Rows.Single(r => r.Model == "A");
        Assert.Equal(996.0230248, a.Lower, 6);
        Assert.Equal(1003.9769752, a.Upper, 6);
        Assert.InRange(a.Median, 999.97, 1000.03);
        Assert.Equal(999.9769752, a.Rating, 6);  // the online rating of the battles in file order: win then loss
        // A fixed seed gives the same intervals every time.
        Assert.Equal(samples["A"], EloRatings.Bootstrap(battles, options)["A"]);
    }

    [Fact]
    public void Quantiles_interpolate_linearly_like_numpy()
    {
        double[] values = [4, 1, 3, 2];
        Assert.Equal(1.075, EloRatings.Quantile(values, 0.025), 12);  // position 0.025·3 = 0.075
        Assert.Equal(3.925, EloRatings.Quantile(values, 0.975), 12);
        Assert.Equal(2.5, EloRatings.Quantile(values, 0.5), 12);
    }

    [Fact]
    public void Bradley_terry_matches_closed_forms()
    {
        // A beat B 3 times and lost once: p_A / p_B = 3 and p_A·p_B = 1, so R_A = 1000 + 400·log10(√3) = 1095.4243, R_B = 904.5757.
        var twoModels = new[] { new Battle("A", "B", 1), new Battle("B", "A", 0), new Battle("A", "B", 1), new Battle("A", "B", 0) };
        var fit = BradleyTerry.Fit(twoModels, new EloOptions());
        Assert.Equal(1000 + 200 * Math.Log10(3), fit.Ratings!["A"], 6);
        Assert.Equal(1000 - 200 * Math.Log10(3), fit.Ratings["B"], 6);

        // A tie is half a win each way: A 1 win + 1 tie, B 1 tie → W_A = 1.5, W_B = 0.5 → ratio 3 again.
        var withTie = new[] { new Battle("A", "B", 1), new Battle("A", "B", 0.5) };
        Assert.Equal(1000 + 200 * Math.Log10(3), BradleyTerry.Fit(withTie, new EloOptions()).Ratings!["A"], 6);

        // A rock-paper-scissors cycle (each beats the next twice and loses once) is symmetric: everyone at 1000.
        var cycle = new List<Battle>();
        foreach (var (x, y) in new[] { ("R", "S"), ("S", "P"), ("P", "R") })
            cycle.AddRange([new Battle(x, y, 1), new Battle(x, y, 1), new Battle(x, y, 0)]);
        Assert.All(BradleyTerry.Fit(cycle, new EloOptions()).Ratings!.Values, r => Assert.Equal(1000, r, 6));
    }

    [Fact]
    public void Bradley_terry_is_not_reported_when_a_model_never_lost()
    {
        var fit = BradleyTerry.Fit([new Battle("A", "B", 1), new Battle("A", "C", 1), new Battle("B", "C", 0.5)], new EloOptions());
        Assert.Null(fit.Ratings);
        Assert.Contains("unbeaten or winless", fit.Note);
    }
}
