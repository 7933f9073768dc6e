using System.Text;

namespace Camelid.Tokenization.Training;

/// <summary>
/// The BPE merge loop of sentencepiece's bpe_model_trainer.cc over distinct words with counts: repeatedly the most
/// frequent adjacent pair of symbols becomes a new symbol. Pair counts are kept up to date incrementally: a merge only
/// rewrites the words that contain its pair (found through a pair → words index) and re-queues only the pairs whose
/// count changed; stale queue entries are recognised by their count and dropped.
///
/// Symbols are numbered in order of creation: characters first, most frequent first (then by code point), then merged
/// pieces as they are made. Ties between pairs of equal count go to the pair whose left symbol has the lower number,
/// then whose right symbol has the lower number, so the result depends on nothing but the word counts.
///
/// A pair is never formed when the piece would be longer than the maximum length, would hold an unknown character (one
/// without a piece), would mix scripts (<see cref="ScriptClass"/>; "▁" goes with any script), or, with split digits,
/// would hold a digit (spm_train --split_digits: numbers stay one token per digit, as in LLaMA's tokenizer). When a pair's piece
/// already exists under another path ("aa"+"a" vs "a"+"aa"), or is a reserved piece, the pair is dropped for good, as
/// sentencepiece does.
/// </summary>
sealed class PairMerger
{
    const int UnknownSymbol = -1;
    const int AnyScript = -1; // the piece is only "▁"s

    readonly record struct Symbol(string Text, int Length, int Script);

    readonly record struct PairRank(long Count, int Left, int Right);

    sealed class RankOrder : IComparer<PairRank>
    {
        public int Compare(PairRank x, PairRank y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count)
            : x.Left != y.Left ? x.Left.CompareTo(y.Left)
            : x.Right.CompareTo(y.Right);
    }

    readonly List<Symbol> _symbols = [];
    readonly int[][] _words;          // (distinct words) symbol ids; a word shrinks in place as it merges
    readonly int[] _wordLengths;      // (distinct words) symbols in use at the start of each array
    readonly long[] _wordCounts;      // (distinct words)
    readonly int[] _wordVisited;      // (distinct words) the last merge that rewrote the word, to visit each once
    readonly Dictionary<long, long> _pairCounts = [];
    readonly Dictionary<long, List<int>> _pairWords = []; // may list a word twice or no longer hold the pair
    readonly PriorityQueue<long, PairRank> _queue = new(new RankOrder());
    readonly HashSet<long> _dropped = [];
    readonly HashSet<string> _taken;
    readonly int _maxPieceLength;
    readonly bool _splitDigits;
    int _mergeCount;

    /// <param name="words">Distinct words and their counts.</param>
    /// <param name="characters">The characters that have pieces, in symbol order; others are unknown.</param>
    /// <param name="reserved">Piece strings that merging must not produce again.</param>
    public PairMerger(IReadOnlyList<(string Word, long Count)> words, IReadOnlyList<string> characters,
        IEnumerable<string> reserved, int maxPieceLength, bool splitDigits = false)
    {
        _maxPieceLength = maxPieceLength;
        _splitDigits = splitDigits;
        _taken = new HashSet<string>(reserved, StringComparer.Ordinal);
        var characterIds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in characters)
        {
            characterIds.Add(c, _symbols.Count);
            _symbols.Add(new Symbol(c, 1, c == "\u2581" ? AnyScript : ScriptClass.Of(Rune.GetRuneAt(c, 0))));
            _taken.Add(c);
        }
        var characterLookup = characterIds.GetAlternateLookup<ReadOnlySpan<char>>();

        _words = new int[words.Count][];
        _wordLengths = new int[words.Count];
        _wordCounts = new long[words.Count];
        _wordVisited = new int[words.Count];
        var symbols = new List<int>();
        for (int w = 0; w < words.Count; w++)
        {
            symbols.Clear();
            string word = words[w].Word;
            for (int i = 0; i < word.Length;)
            {
                int n = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
                symbols.Add(characterLookup.TryGetValue(word.AsSpan(i, n), out int id) ? id : UnknownSymbol);
                i += n;
            }
            _words[w] = [.. symbols];
            _wordLengths[w] = symbols.Count;
            _wordCounts[w] = words[w].Count;
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                long pair = PairKey(symbols[i], symbols[i + 1]);
                if (!CanMerge(symbols[i], symbols[i + 1]))
                    continue;
                _pairCounts[pair] = _pairCounts.GetValueOrDefault(pair) + words[w].Count;
                AddWordToPair(pair, w);
            }
        }
        foreach (var (pair, count) in _pairCounts)
            _queue.Enqueue(pair, Rank(pair, count));
    }

    /// <summary>Merged pieces, best first, until no pair is left; enumerate only as many as needed.</summary>
    public IEnumerable<string> Merges()
    {
        while (TryMergeBest(out string? piece))
            yield return piece;
    }

    bool TryMergeBest(out string piece)
    {
        while (_queue.TryDequeue(out long pair, out var rank))
        {
            if (!_pairCounts.TryGetValue(pair, out long count) || count != rank.Count)
                continue; // stale: the count changed and the pair was queued again with its new count
            piece = _symbols[rank.Left].Text + _symbols[rank.Right].Text;
            if (!_taken.Add(piece))
            {
                _dropped.Add(pair);
                _pairCounts.Remove(pair);
                continue;
            }
            var left = _symbols[rank.Left];
            var right = _symbols[rank.Right];
            int merged = _symbols.Count;
            _symbols.Add(new Symbol(piece, left.Length + right.Length, left.Script == AnyScript ? right.Script : left.Script));
            Apply(pair, rank.Left, rank.Right, merged);
            return true;
        }
        piece = "";
        return false;
    }

    /// <summary>Rewrites every word holding (left, right) and updates the pair counts by the difference.</summary>
    void Apply(long pair, int left, int right, int merged)
    {
        _mergeCount++;
        var delta = new Dictionary<long, long>();
        foreach (int w in _pairWords[pair])
        {
            if (_wordVisited[w] == _mergeCount)
                continue;
            _wordVisited[w] = _mergeCount;
            int[] symbols = _words[w];
            int length = _wordLengths[w];
            long count = _wordCounts[w];
            if (!Contains(symbols, length, left, right))
                continue;
            for (int i = 0; i + 1 < length; i++)
                delta[PairKey(symbols[i], symbols[i + 1])] = delta.GetValueOrDefault(PairKey(symbols[i], symbols[i + 1])) - count;
            int kept = 0;
            for (int i = 0; i < length; i++)
            {
                if (i + 1 < length && symbols[i] == left && symbols[i + 1] == right)
                {
                    symbols[kept++] = merged;
                    i++;
                }
                else
                    symbols[kept++] = symbols[i];
            }
            _wordLengths[w] = length = kept;
            for (int i = 0; i + 1 < length; i++)
            {
                long key = PairKey(symbols[i], symbols[i + 1]);
                delta[key] = delta.GetValueOrDefault(key) + count;
                if (symbols[i] == merged || symbols[i + 1] == merged)
                    AddWordToPair(key, w);
            }
        }
        _pairWords.Remove(pair);
        foreach (var (key, change) in delta)
        {
            if (change == 0)
                continue;
            int a = (int)(key >> 32), b = (int)key;
            if (_dropped.Contains(key) || !CanMerge(a, b))
                continue;
            long count = _pairCounts.GetValueOrDefault(key) + change;
            if (count > 0)
            {
                _pairCounts[key] = count;
                _queue.Enqueue(key, Rank(key, count));
            }
            else
                _pairCounts.Remove(key);
        }
    }

    static bool Contains(int[] symbols, int length, int left, int right)
    {
        for (int i = 0; i + 1 < length; i++)
            if (symbols[i] == left && symbols[i + 1] == right)
                return true;
        return false;
    }

    bool CanMerge(int left, int right)
    {
        if (left == UnknownSymbol || right == UnknownSymbol)
            return false;
        var a = _symbols[left];
        var b = _symbols[right];
        if (a.Length + b.Length > _maxPieceLength)
            return false;
        if (_splitDigits && (IsDigit(a) || IsDigit(b)))
            return false;
        if (b.Text[0] == '\u2581') // "▁" only starts a piece (with split_by_whitespace it only starts a word anyway)
            return false;
        return a.Script == AnyScript || b.Script == AnyScript || a.Script == b.Script;
    }

    // A digit never merges when digits are split, so a symbol holding one is that single character.
    static bool IsDigit(Symbol s) => s.Length == 1 && Rune.IsDigit(Rune.GetRuneAt(s.Text, 0));

    void AddWordToPair(long pair, int word)
    {
        if (!_pairWords.TryGetValue(pair, out var list))
            _pairWords[pair] = list = [];
        if (list.Count == 0 || list[^1] != word)
            list.Add(word);
    }

    static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    static PairRank Rank(long pair, long count) => new(count, (int)(pair >> 32), (int)pair);
}
