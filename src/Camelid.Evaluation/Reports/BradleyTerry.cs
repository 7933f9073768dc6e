namespace Camelid.Evaluation.Reports;

/// <summary>A Bradley–Terry fit: ratings on the Elo scale, or null with the reason the fit does not exist.</summary>
public sealed record BradleyTerryFit(IReadOnlyDictionary<string, double>? Ratings, string? Note);

/// <summary>
/// The maximum-likelihood Bradley–Terry model, P(i beats j) = p_i / (p_i + p_j), fitted with Hunter's (2004)
/// minorization–maximization update p_i ← W_i / Σ_j n_ij / (p_i + p_j), where W_i is i's total score (a tie is half
/// a win for each side, as FastChat's compute_mle_elo counts ties) and n_ij the number of battles between i and j.
/// Ratings are put on the Elo scale like FastChat's: R_i = 1000 + 400·log10(p_i), with the p_i normalised to a
/// geometric mean of 1 (so the ratings average 1000). The maximum exists only when the "scored against" graph
/// is strongly connected (no group of models that never scored against the rest); otherwise no fit is reported.
/// </summary>
public static class BradleyTerry
{
    public static BradleyTerryFit Fit(IReadOnlyList<Battle> battles, EloOptions options, int maxIterations = 100_000, double tolerance = 1e-12)
    {
        var models = battles.SelectMany(b => new[] { b.ModelA, b.ModelB }).Distinct().OrderBy(m => m, StringComparer.Ordinal).ToList();
        if (models.Count < 2)
            return new BradleyTerryFit(null, "Bradley–Terry needs battles between at least two models");
        var index = models.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);
        int n = models.Count;
        var games = new double[n, n];   // (n, n) battles between i and j, symmetric
        var scored = new double[n, n];  // (n, n) i's score against j
        var wins = new double[n];       // (n) W_i
        foreach (var b in battles)
        {
            int a = index[b.ModelA], c = index[b.ModelB];
            games[a, c]++;
            games[c, a]++;
            scored[a, c] += b.ScoreA;
            scored[c, a] += 1 - b.ScoreA;
            wins[a] += b.ScoreA;
            wins[c] += 1 - b.ScoreA;
        }
        if (!StronglyConnected(scored, n))
            return new BradleyTerryFit(null, "no Bradley–Terry fit: some models never scored against the others (an unbeaten or winless group), so the maximum-likelihood ratings are infinite");

        var p = Enumerable.Repeat(1.0, n).ToArray();
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            var next = new double[n];
            for (int i = 0; i < n; i++)
            {
                double denominator = 0;
                for (int j = 0; j < n; j++)
                    if (j != i && games[i, j] > 0)
                        denominator += games[i, j] / (p[i] + p[j]);
                next[i] = wins[i] / denominator;
            }
            double meanLog = next.Average(Math.Log);
            double change = 0;
            for (int i = 0; i < n; i++)
            {
                next[i] = Math.Exp(Math.Log(next[i]) - meanLog);
                change = Math.Max(change, Math.Abs(Math.Log(next[i]) - Math.Log(p[i])));
            }
            p = next;
            if (change < tolerance)
                break;
        }
        var ratings = models.ToDictionary(m => m, m => options.InitialRating + options.Scale * Math.Log(p[index[m]], options.Base), StringComparer.Ordinal);
        return new BradleyTerryFit(ratings, null);
    }

    /// <summary>Every model reaches every other through "scored against" edges (i → j when i won or tied against j).</summary>
    static bool StronglyConnected(double[,] scored, int n)
    {
        bool Reaches(bool forward)
        {
            var seen = new bool[n];
            var stack = new Stack<int>([0]);
            seen[0] = true;
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                for (int j = 0; j < n; j++)
                    if (!seen[j] && (forward ? scored[i, j] : scored[j, i]) > 0)
                    {
                        seen[j] = true;
                        stack.Push(j);
                    }
            }
            return seen.All(s => s);
        }
        return Reaches(forward: true) && Reaches(forward: false);
    }
}
