using System.Text;

namespace Camelid.Tokenization.Training;

/// <summary>
/// The corpus as sentencepiece's BPE trainer sees it: each text normalized as <see cref="SentencePieceBpe"/> encodes it
/// (spaces become "▁", a dummy "▁" in front of the text and of the text after each user-defined symbol, which is cut
/// out), then split into words in front of every "▁" (split_by_whitespace), each distinct word kept once with its
/// count. Pieces never cross a word boundary, so this is all the trainer needs.
/// </summary>
sealed class WordCounts
{
    const char SpaceSymbol = '\u2581';
    const int BatchChars = 1 << 20;

    /// <summary>Distinct words, sorted by count (highest first) and then ordinally, so the order never depends on threads.</summary>
    public required IReadOnlyList<(string Word, long Count)> Words { get; init; }

    public static WordCounts Count(IEnumerable<string> texts, bool addDummyPrefix, bool removeExtraWhitespaces,
        IReadOnlyList<string> userDefinedSymbols, int threads)
    {
        var userDefined = new SpecialTokenMatcher(userDefinedSymbols,
            userDefinedSymbols.Select(_ => TokenType.UserDefined).ToArray(), _ => true);
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        Parallel.ForEach(Batches(texts), new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => new Dictionary<string, long>(StringComparer.Ordinal),
            (batch, _, counts) =>
            {
                var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
                var normalized = new StringBuilder();
                foreach (string text in batch)
                    foreach (var (start, length, id) in userDefined.Split(text))
                    {
                        if (id >= 0)
                            continue;
                        normalized.Clear();
                        Normalize(text.AsSpan(start, length), addDummyPrefix, removeExtraWhitespaces, normalized);
                        AddWords(normalized.ToString(), lookup);
                    }
                return counts;
            },
            counts =>
            {
                lock (total)
                    foreach (var (word, count) in counts)
                        total[word] = total.GetValueOrDefault(word) + count;
            });
        var words = total.Select(p => (p.Key, p.Value)).ToList();
        words.Sort((x, y) => x.Value != y.Value ? y.Value.CompareTo(x.Value) : string.CompareOrdinal(x.Key, y.Key));
        return new WordCounts { Words = words };
    }

    /// <summary>Texts grouped so that each thread gets about a megabyte of work at a time.</summary>
    static IEnumerable<List<string>> Batches(IEnumerable<string> texts)
    {
        var batch = new List<string>();
        long chars = 0;
        foreach (var text in texts)
        {
            ArgumentNullException.ThrowIfNull(text, "texts");
            batch.Add(text);
            chars += text.Length;
            if (chars >= BatchChars)
            {
                yield return batch;
                batch = [];
                chars = 0;
            }
        }
        if (batch.Count > 0)
            yield return batch;
    }

    /// <summary>The same rule as the encoder's normalizer (sentencepiece normalizer.cc with the identity rule).</summary>
    static void Normalize(ReadOnlySpan<char> text, bool addDummyPrefix, bool removeExtraWhitespaces, StringBuilder into)
    {
        if (removeExtraWhitespaces)
        {
            text = text.Trim(' ');
            if (text.IsEmpty)
                return;
        }
        if (text.IsEmpty)
            return;
        if (addDummyPrefix)
            into.Append(SpaceSymbol);
        bool previousWasSpace = removeExtraWhitespaces;
        foreach (char c in text)
        {
            if (c == ' ')
            {
                if (!previousWasSpace)
                    into.Append(SpaceSymbol);
                previousWasSpace = removeExtraWhitespaces;
            }
            else
            {
                into.Append(c);
                previousWasSpace = false;
            }
        }
    }

    /// <summary>sentencepiece SplitIntoWords: a new word starts at every "▁".</summary>
    static void AddWords(ReadOnlySpan<char> s, Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> counts)
    {
        int start = 0;
        for (int i = 1; i <= s.Length; i++)
        {
            if (i < s.Length && s[i] != SpaceSymbol)
                continue;
            var word = s[start..i];
            counts[word] = counts.TryGetValue(word, out long n) ? n + 1 : 1;
            start = i;
        }
    }
}
