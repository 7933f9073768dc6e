using System.Runtime.Intrinsics;
using Camelid.Tensors.Kernels;

namespace Camelid.Inference.Sampling;

/// <summary>
/// Picks the next token from a logit vector. Stateful only through its random generator, so a fixed seed
/// reproduces a whole generation. Work buffers are reused across calls.
/// </summary>
public sealed class Sampler
{
    readonly SamplingOptions _options;
    readonly Random _random;
    Candidate[] _candidates = [];
    readonly Dictionary<int, int> _recentCounts = new();

    public record struct Candidate(int Id, float Logit, float Probability);

    public Sampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _random = options.Seed is int seed ? new Random(seed) : new Random();
    }

    public SamplingOptions Options => _options;

    /// <summary>Chooses a token. <paramref name="logits"/> is modified in place by the penalties.</summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> history)
    {
        if (_options.Temperature == 0)
        {
            ApplyPenalties(logits, history);
            return Ops.Argmax(logits);
        }
        return Draw(Distribution(logits, history));
    }

    /// <summary>
    /// The tokens that survive penalties, top-k, top-p and min-p, most likely first, with their final
    /// probabilities after temperature (which sum to 1). Valid until the next call.
    /// </summary>
    public ReadOnlySpan<Candidate> Distribution(Span<float> logits, ReadOnlySpan<int> history)
    {
        ApplyPenalties(logits, history);
        var candidates = Candidates(logits);           // sorted by logit, descending, after top-k
        int n = candidates.Length;
        Softmax(candidates, n, 1f);
        n = TopPCount(candidates, n, _options.TopP);
        n = MinPCount(candidates, n, _options.MinP);
        Softmax(candidates, n, _options.Temperature > 0 ? _options.Temperature : 1f);
        return candidates[..n];
    }

    /// <summary>Repetition, presence and frequency penalties over the last RepeatLastN tokens (llama.cpp semantics).</summary>
    public void ApplyPenalties(Span<float> logits, ReadOnlySpan<int> history)
    {
        var o = _options;
        if (o.RepeatLastN == 0 || (o.RepeatPenalty == 1 && o.PresencePenalty == 0 && o.FrequencyPenalty == 0))
            return;
        var recent = o.RepeatLastN < 0 || history.Length <= o.RepeatLastN ? history : history[^o.RepeatLastN..];
        _recentCounts.Clear();
        foreach (int id in recent)
            if ((uint)id < (uint)logits.Length)
                _recentCounts[id] = _recentCounts.GetValueOrDefault(id) + 1;
        foreach (var (id, count) in _recentCounts)
        {
            ref float l = ref logits[id];
            l = l > 0 ? l / o.RepeatPenalty : l * o.RepeatPenalty;
            l -= count * o.FrequencyPenalty + o.PresencePenalty;
        }
    }

    /// <summary>All tokens, or the top K, sorted by descending logit (lower id first on ties). NaN counts as −∞.</summary>
    Span<Candidate> Candidates(ReadOnlySpan<float> logits)
    {
        if (_candidates.Length < logits.Length)
            _candidates = new Candidate[logits.Length];
        int k = _options.TopK > 0 ? Math.Min(_options.TopK, logits.Length) : logits.Length;
        var kept = _candidates.AsSpan(0, k);
        if (k < logits.Length)
            SelectTopK(logits, kept);
        else
            for (int i = 0; i < logits.Length; i++)
                kept[i] = new Candidate(i, LogitOf(logits[i]), 0);
        // Stable order: higher logit first, lower id first on ties, so results never depend on sort internals.
        kept.Sort(static (a, b) => b.Logit != a.Logit ? b.Logit.CompareTo(a.Logit) : a.Id.CompareTo(b.Id));
        return kept;
    }

    static float LogitOf(float logit) => float.IsNaN(logit) ? float.NegativeInfinity : logit;

    /// <summary>
    /// The k best tokens by (logit, then lower id) into <paramref name="kept"/>, in no order: a min-heap of the k
    /// best so far, whose root is the one to drop next. A later token enters only with a strictly higher logit
    /// than the root (on a tie its larger id ranks it lower), and eight logits at a time are skipped with one
    /// comparison, since after the first few thousand almost none does.
    /// </summary>
    static void SelectTopK(ReadOnlySpan<float> logits, Span<Candidate> kept)
    {
        int k = kept.Length;
        for (int i = 0; i < k; i++)
            kept[i] = new Candidate(i, LogitOf(logits[i]), 0);
        for (int i = k / 2 - 1; i >= 0; i--)
            SiftDown(kept, i);
        int next = k;
        if (Vector256.IsHardwareAccelerated)
            for (; next + 8 <= logits.Length; next += 8)
            {
                // NaN compares false, so it never passes (as −∞, it could not beat the root either).
                if (!Vector256.GreaterThanAny(Vector256.Create(logits.Slice(next, 8)), Vector256.Create(kept[0].Logit)))
                    continue;
                for (int i = next; i < next + 8; i++)
                    Offer(kept, i, LogitOf(logits[i]));
            }
        for (; next < logits.Length; next++)
            Offer(kept, next, LogitOf(logits[next]));
    }

    static void Offer(Span<Candidate> heap, int id, float logit)
    {
        if (logit > heap[0].Logit)
        {
            heap[0] = new Candidate(id, logit, 0);
            SiftDown(heap, 0);
        }
    }

    /// <summary>Whether a ranks below b: lower logit, or the same logit and a larger id.</summary>
    static bool Below(in Candidate a, in Candidate b) => a.Logit < b.Logit || (a.Logit == b.Logit && a.Id > b.Id);

    static void SiftDown(Span<Candidate> heap, int i)
    {
        while (true)
        {
            int lowest = i, left = 2 * i + 1, right = left + 1;
            if (left < heap.Length && Below(heap[left], heap[lowest])) lowest = left;
            if (right < heap.Length && Below(heap[right], heap[lowest])) lowest = right;
            if (lowest == i)
                return;
            (heap[i], heap[lowest]) = (heap[lowest], heap[i]);
            i = lowest;
        }
    }

    static void Softmax(Span<Candidate> c, int n, float temperature)
    {
        float max = c[0].Logit / temperature; // candidates are sorted, so the first is the largest
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float p = MathF.Exp(c[i].Logit / temperature - max);
            c[i].Probability = p;
            sum += p;
        }
        for (int i = 0; i < n; i++)
            c[i].Probability = (float)(c[i].Probability / sum);
    }

    static int TopPCount(ReadOnlySpan<Candidate> c, int n, float p)
    {
        if (p >= 1)
            return n;
        double cumulative = 0;
        for (int i = 0; i < n; i++)
        {
            cumulative += c[i].Probability;
            if (cumulative >= p)
                return i + 1;
        }
        return n;
    }

    static int MinPCount(ReadOnlySpan<Candidate> c, int n, float minP)
    {
        if (minP <= 0)
            return n;
        float threshold = c[0].Probability * minP;
        int kept = 1;
        while (kept < n && c[kept].Probability >= threshold)
            kept++;
        return kept;
    }

    int Draw(ReadOnlySpan<Candidate> c)
    {
        int n = c.Length;
        double r = _random.NextDouble(), cumulative = 0;
        for (int i = 0; i < n; i++)
        {
            cumulative += c[i].Probability;
            if (r < cumulative)
                return c[i].Id;
        }
        return c[n - 1].Id; // rounding left r above the total
    }
}
