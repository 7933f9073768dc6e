namespace Camelid.Evaluation.Reports;

/// <summary>One game: <see cref="ScoreA"/> is model A's result (1 win, 0 loss, 0.5 tie).</summary>
public readonly record struct Battle(string ModelA, string ModelB, double ScoreA);

public sealed record EloOptions
{
    /// <summary>The constants of FastChat's elo_analysis.compute_elo: K = 4, scale 400, base 10, every model starting at 1000.</summary>
    public double K { get; init; } = 4;
    public double Scale { get; init; } = 400;
    public double Base { get; init; } = 10;
    public double InitialRating { get; init; } = 1000;

    public int BootstrapRounds { get; init; } = 1000;
    public int Seed { get; init; } = 42;
}

/// <summary>
/// Online Elo over battles in order (FastChat's compute_elo): for each battle, E_a = 1 / (1 + base^((R_b − R_a)/scale)),
/// E_b = 1 − E_a, then R_a += K·(S_a − E_a) and R_b += K·((1 − S_a) − E_b). The result depends on the order, which is
/// why the bootstrap below is reported too.
/// </summary>
public static class EloRatings
{
    public static Dictionary<string, double> Compute(IReadOnlyList<Battle> battles, EloOptions options)
    {
        var rating = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var battle in battles)
        {
            double ra = rating.GetValueOrDefault(battle.ModelA, options.InitialRating);
            double rb = rating.GetValueOrDefault(battle.ModelB, options.InitialRating);
            double expectedA = 1 / (1 + Math.Pow(options.Base, (rb - ra) / options.Scale));
            double expectedB = 1 / (1 + Math.Pow(options.Base, (ra - rb) / options.Scale));
            rating[battle.ModelA] = ra + options.K * (battle.ScoreA - expectedA);
            rating[battle.ModelB] = rb + options.K * (1 - battle.ScoreA - expectedB);
        }
        return rating;
    }

    /// <summary>
    /// Bootstrap (FastChat's get_bootstrap_result): <see cref="EloOptions.BootstrapRounds"/> times, draw as many battles
    /// as there are with replacement (uniform indices from <c>new Random(seed)</c>, so a seed gives the same numbers on every
    /// run) and compute the online Elo of that sample in the drawn order. Returns every round's rating per model.
    /// </summary>
    public static Dictionary<string, List<double>> Bootstrap(IReadOnlyList<Battle> battles, EloOptions options)
    {
        var random = new Random(options.Seed);
        var samples = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var sample = new Battle[battles.Count];
        for (int round = 0; round < options.BootstrapRounds; round++)
        {
            for (int i = 0; i < sample.Length; i++)
                sample[i] = battles[random.Next(battles.Count)];
            foreach (var (model, rating) in Compute(sample, options))
            {
                if (!samples.TryGetValue(model, out var list))
                    samples[model] = list = new List<double>(options.BootstrapRounds);
                list.Add(rating);
            }
        }
        return samples;
    }

    /// <summary>The q-quantile with linear interpolation between order statistics (numpy's and pandas' default): position q·(n−1).</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToArray();
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}

public sealed record EloRow(string Model, double Rating, double Median, double Lower, double Upper, int Battles, double? BradleyTerry);

/// <summary>Elo (online, in file order), its bootstrap median and 95% interval (2.5% and 97.5% quantiles), and the Bradley–Terry fit.</summary>
public sealed record EloReport(IReadOnlyList<EloRow> Rows, int Battles, int Rounds, int Seed, string? BradleyTerryNote)
{
    public static EloReport Build(IReadOnlyList<Battle> battles, EloOptions options)
    {
        var online = EloRatings.Compute(battles, options);
        var bootstrap = battles.Count == 0 ? [] : EloRatings.Bootstrap(battles, options);
        var fit = BradleyTerry.Fit(battles, options);
        var counts = battles.SelectMany(b => new[] { b.ModelA, b.ModelB }).GroupBy(m => m).ToDictionary(g => g.Key, g => g.Count());
        var rows = online.Select(r =>
        {
            var samples = bootstrap.GetValueOrDefault(r.Key) ?? [];
            return new EloRow(r.Key, r.Value, EloRatings.Quantile(samples, 0.5), EloRatings.Quantile(samples, 0.025), EloRatings.Quantile(samples, 0.975),
                              counts[r.Key], fit.Ratings?.GetValueOrDefault(r.Key));
        }).OrderByDescending(r => r.Rating).ThenBy(r => r.Model, StringComparer.Ordinal).ToList();
        return new EloReport(rows, battles.Count, options.BootstrapRounds, options.Seed, fit.Note);
    }
}
