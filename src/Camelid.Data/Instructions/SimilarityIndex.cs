namespace Camelid.Data.Instructions;

/// <summary>An item of a <see cref="SimilarityIndex"/> and its ROUGE-L F-measure against a query.</summary>
public readonly record struct SimilarMatch(int Index, double Score);

/// <summary>
/// The instructions kept so far (seed tasks first), searchable for the one most similar to a candidate by
/// ROUGE-L F-measure. Alpaca compared every candidate with every kept instruction in a Python process pool;
/// here three things cut the work:
/// <list type="number">
/// <item>An inverted index ((token, length) → items) with prefix filtering, for queries with a threshold: F &gt; t
/// needs an LCS, hence a token overlap, of about o = t(m + n)/2, so an item that can pass must contain one of any
/// m − o + 1 of the query's tokens; the query's rarest ones are used, and only the items found in their posting
/// lists are scored (see <see cref="PrefixFilter"/>).</item>
/// <item>A length bound: LCS ≤ min(m, n), so F ≤ 2·min(m, n)/(m + n); items that cannot beat the threshold
/// (or the best score so far) are skipped.</item>
/// <item>The exact score by a bit-parallel LCS over int token ids (<see cref="BitParallelLcs"/>), with large
/// candidate sets split across cores.</item>
/// </list>
/// Results are exact and do not depend on the number of cores: ties go to the lowest index.
/// Not thread-safe: one caller adds and queries; the parallelism is inside <see cref="MostSimilar(int[], double)"/>.
/// </summary>
public sealed class SimilarityIndex
{
    /// <summary>Below this many items to score, one thread scores them all: splitting costs more than it saves.</summary>
    const int ParallelMinimum = 4096;

    /// <summary>Slack for rounding when a bound computed one way is compared with a score computed another.</summary>
    const double Slack = 1e-9;

    /// <summary>Floors tried, in order, before a search without threshold scores every item.</summary>
    static readonly double[] CascadeFloors = [0.5, 0.3];

    readonly TokenVocabulary _vocabulary = new();
    readonly List<string> _texts = [];
    readonly int _maxParallelism;
    int[] _tokens = new int[1 << 12];   // all items' token ids, back to back
    int[] _starts = new int[1 << 8];    // (Count + 1) offsets into _tokens
    int _tokenCount;
    int[] _slotOfToken = [];            // (vocabulary) → row of the current query's masks, −1 when absent
    Postings?[] _postings = [];         // (vocabulary) → the items containing the token, by item length
    int[] _lastItemOfToken = [];        // (vocabulary) → last item added to the token's postings
    int _longestItem;
    ulong[] _candidates = [];           // (Count bits) items to score in a filtered query

    public SimilarityIndex(int maxDegreeOfParallelism = 0) =>
        _maxParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;

    public int Count => _texts.Count;

    /// <summary>The text of item <paramref name="index"/>.</summary>
    public string this[int index] => _texts[index];

    /// <summary>ROUGE token ids of <paramref name="text"/> in this index's vocabulary.</summary>
    public int[] Tokenize(string text) => _vocabulary.Tokenize(text);

    public int Add(string text) => Add(text, Tokenize(text));

    /// <summary>Adds an item whose <paramref name="tokens"/> came from <see cref="Tokenize"/>; returns its index.</summary>
    public int Add(string text, int[] tokens)
    {
        if (_tokenCount + tokens.Length > _tokens.Length)
            Array.Resize(ref _tokens, Math.Max(_tokens.Length * 2, _tokenCount + tokens.Length));
        if (Count + 2 > _starts.Length)
            Array.Resize(ref _starts, _starts.Length * 2);
        GrowPerToken();
        int item = Count;
        foreach (int token in tokens)
        {
            if (_lastItemOfToken[token] == item)
                continue;
            _lastItemOfToken[token] = item;
            (_postings[token] ??= new Postings()).Add(tokens.Length, item);
        }
        _longestItem = Math.Max(_longestItem, tokens.Length);
        tokens.CopyTo(_tokens, _tokenCount);
        _tokenCount += tokens.Length;
        _texts.Add(text);
        _starts[Count] = _tokenCount;
        return item;
    }

    public SimilarMatch? MostSimilar(string text, double floor = -1) => MostSimilar(Tokenize(text), floor);

    /// <summary>
    /// The item with the highest F-measure above <paramref name="floor"/> (the lowest index among equals), or
    /// null when none is above it. With <c>floor</c> = the dedupe threshold this answers "is anything too
    /// similar, and what" through the inverted index; with −1 it is the most similar item overall (every item
    /// is looked at).
    /// </summary>
    public SimilarMatch? MostSimilar(int[] tokens, double floor)
    {
        if (Count == 0 || (floor >= 0 && tokens.Length == 0))
            return null;
        GrowPerToken();
        var masks = BitParallelLcs.BuildMasks(tokens, _slotOfToken, out int words);
        try
        {
            var query = new Query(tokens.Length, masks, words);
            if (floor > 0)
                return Best(query, PrefixFilter(tokens, floor), floor);
            // No threshold: the best above a high floor, if there is one, is the best overall, and the filtered
            // search is much cheaper than scoring every item; only when nothing is that close is everything scored.
            foreach (double step in CascadeFloors)
                if (tokens.Length > 0 && Best(query, PrefixFilter(tokens, step), step) is { } close)
                    return close;
            return Best(query, null, floor);
        }
        finally
        {
            BitParallelLcs.ClearSlots(tokens, _slotOfToken);
        }
    }

    /// <summary>
    /// The items that could score above <paramref name="floor"/>, ascending. An item of n tokens needs a token
    /// overlap of at least o(n) = ⌈t(m + n)/2⌉ (rounded down a hair, never missing an item whose computed score
    /// would pass), so it must contain one of any p(n) = m − o(n) + 1 of the query's m tokens. The query's
    /// tokens are taken rarest first; the token at position j is looked up only among items whose length has
    /// p(n) &gt; j (postings are kept per token and length), so a common word deep in the order costs little.
    /// </summary>
    int[] PrefixFilter(int[] tokens, double floor)
    {
        int m = tokens.Length;
        // Lengths that can pass form one range [shortest, longest]; p(n) does not grow with n within it.
        var prefixAt = new int[_longestItem + 1]; // (length n) → p(n), 0 when no item of that length can pass
        int shortest = 0, longest = -1, widest = 0;
        for (int n = 1; n <= _longestItem; n++)
        {
            if (RougeL.UpperBound(m, n) + Slack <= floor)
                continue;
            int overlap = Math.Max(1, (int)Math.Ceiling(floor * (m + n) / 2 - Slack));
            prefixAt[n] = Math.Clamp(m - overlap + 1, 1, m);
            widest = Math.Max(widest, prefixAt[n]);
            if (shortest == 0)
                shortest = n;
            longest = n;
        }
        int words = (Count + 63) / 64;
        if (_candidates.Length < words)
            _candidates = new ulong[Math.Max(words, _candidates.Length * 2)];
        var bits = _candidates.AsSpan(0, words);
        bits.Clear();
        int found = 0, position = 0;
        foreach (var group in tokens.GroupBy(t => t).OrderBy(g => _postings[g.Key]?.Items ?? 0).ThenBy(g => g.Key))
        {
            if (position >= widest)
                break; // no item length needs a prefix this long
            var byLength = _postings[group.Key]?.ByLength ?? [];
            for (int e = Postings.FirstAtLeast(byLength, shortest); e < byLength.Count; e++)
            {
                var (n, list) = byLength[e];
                if (n > longest || prefixAt[n] <= position)
                    break;
                foreach (int item in list)
                {
                    ref ulong word = ref bits[item >> 6];
                    ulong bit = 1UL << (item & 63);
                    if ((word & bit) == 0)
                    {
                        word |= bit;
                        found++;
                    }
                }
            }
            position += group.Count(); // a token that occurs k times fills k positions
        }
        var items = new int[found];
        int next = 0;
        for (int w = 0; w < words; w++)
            for (ulong word = bits[w]; word != 0; word &= word - 1)
                items[next++] = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(word);
        return items;
    }

    /// <summary>One token's posting lists, one per item length, in length order.</summary>
    sealed class Postings
    {
        public List<(int Length, List<int> Items)> ByLength { get; } = [];

        /// <summary>Items containing the token (its rarity).</summary>
        public int Items { get; private set; }

        public void Add(int length, int item)
        {
            int at = FirstAtLeast(ByLength, length);
            if (at == ByLength.Count || ByLength[at].Length != length)
                ByLength.Insert(at, (length, []));
            ByLength[at].Items.Add(item);
            Items++;
        }

        public static int FirstAtLeast(List<(int Length, List<int> Items)> byLength, int length)
        {
            int lo = 0, hi = byLength.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (byLength[mid].Length < length) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    /// <summary>The best of <paramref name="items"/> (null: all items), in chunks across cores when there are many.</summary>
    SimilarMatch? Best(Query query, int[]? items, double floor)
    {
        int count = items?.Length ?? Count;
        var best = new SimilarMatch(-1, floor);
        if (count < ParallelMinimum || _maxParallelism == 1)
            best = Scan(query, items, 0, count, floor);
        else
        {
            int chunks = Math.Min(_maxParallelism * 8, count / 512);
            var found = new SimilarMatch[chunks];
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _maxParallelism },
                c => found[c] = Scan(query, items, (int)((long)count * c / chunks), (int)((long)count * (c + 1) / chunks), floor));
            foreach (var f in found) // chunks in index order: strict > keeps the lowest index among equals
                if (f.Index >= 0 && f.Score > best.Score)
                    best = f;
        }
        return best.Index >= 0 ? best : null;
    }

    SimilarMatch Scan(Query query, int[]? items, int from, int to, double floor)
    {
        int m = query.Length, words = query.Words;
        double bestScore = floor;
        int bestIndex = -1;
        Span<ulong> v = words <= 16 ? stackalloc ulong[words] : new ulong[words];
        var tokens = _tokens.AsSpan();
        for (int k = from; k < to; k++)
        {
            int j = items == null ? k : items[k];
            int start = _starts[j], n = _starts[j + 1] - start;
            if (RougeL.UpperBound(m, n) + Slack <= bestScore)
                continue;
            int lcs = m == 0 || n == 0 ? 0 : BitParallelLcs.Length(tokens.Slice(start, n), _slotOfToken, query.Masks, m, words, v);
            double score = RougeL.FMeasure(lcs, m, n);
            if (score > bestScore)
            {
                bestScore = score;
                bestIndex = j;
            }
        }
        return new SimilarMatch(bestIndex, bestScore);
    }

    void GrowPerToken()
    {
        int size = _vocabulary.Count;
        if (_slotOfToken.Length >= size)
            return;
        int old = _slotOfToken.Length, grown = Math.Max(size, old * 2);
        Array.Resize(ref _slotOfToken, grown);
        _slotOfToken.AsSpan(old).Fill(-1);
        Array.Resize(ref _postings, grown);
        Array.Resize(ref _lastItemOfToken, grown);
        _lastItemOfToken.AsSpan(old).Fill(-1);
    }

    /// <summary>The query's length and match masks, (slots, words) row-major.</summary>
    readonly record struct Query(int Length, ulong[] Masks, int Words);
}
