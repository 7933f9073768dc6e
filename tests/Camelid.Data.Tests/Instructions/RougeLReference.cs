namespace Camelid.Data.Tests.Instructions;

/// <summary>
/// The straightforward twin of the fast ROUGE-L path, written after rouge_score's rouge_scorer.py:
/// the full (m+1)×(n+1) LCS table, then precision = lcs/len(prediction), recall = lcs/len(target).
/// </summary>
static class RougeLReference
{
    public static int Lcs(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        var table = new int[a.Count + 1, b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
            for (int j = 1; j <= b.Count; j++)
                table[i, j] = a[i - 1] == b[j - 1] ? table[i - 1, j - 1] + 1 : Math.Max(table[i - 1, j], table[i, j - 1]);
        return table[a.Count, b.Count];
    }

    public static double FMeasure(IReadOnlyList<int> target, IReadOnlyList<int> prediction)
    {
        if (target.Count == 0 || prediction.Count == 0)
            return 0;
        int lcs = Lcs(target, prediction);
        double precision = (double)lcs / prediction.Count, recall = (double)lcs / target.Count;
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    }

    /// <summary>Brute force: the highest score above <paramref name="floor"/>, lowest index among equals, or null.</summary>
    public static (int Index, double Score)? MostSimilar(IReadOnlyList<int> query, IReadOnlyList<int[]> pool, double floor)
    {
        (int Index, double Score)? best = null;
        for (int i = 0; i < pool.Count; i++)
        {
            double score = FMeasure(query, pool[i]);
            if (score > floor && (best == null || score > best.Value.Score))
                best = (i, score);
        }
        return best;
    }
}
