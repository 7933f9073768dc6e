namespace Camelid.Tokenization;

/// <summary>
/// Finds special-token strings (control, user-defined) inside text so they become single tokens instead of being
/// tokenized as characters. At each position the longest matching token wins; scanning is left to right.
/// </summary>
sealed class SpecialTokenMatcher
{
    readonly Dictionary<char, (string Text, int Id)[]> _byFirstChar; // candidates, longest first

    public SpecialTokenMatcher(IReadOnlyList<string> tokens, IReadOnlyList<TokenType> types, Func<TokenType, bool> include)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new List<(string Text, int Id)>();
        for (int id = 0; id < tokens.Count; id++)
            if (include(types[id]) && tokens[id].Length > 0 && seen.Add(tokens[id]))
                candidates.Add((tokens[id], id));
        _byFirstChar = candidates
            .GroupBy(c => c.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(c => c.Text.Length).ThenBy(c => c.Id).ToArray());
    }

    /// <summary>Consecutive pieces covering <paramref name="text"/>: plain text has Id -1, a matched token its id.
    /// Empty text gives no pieces.</summary>
    public List<(int Start, int Length, int Id)> Split(string text)
    {
        var pieces = new List<(int, int, int)>();
        int textStart = 0;
        if (_byFirstChar.Count > 0)
        {
            for (int i = 0; i < text.Length;)
            {
                int matched = -1, matchedLength = 0;
                if (_byFirstChar.TryGetValue(text[i], out var candidates))
                    foreach (var (token, id) in candidates)
                        if (text.AsSpan(i).StartsWith(token, StringComparison.Ordinal))
                        {
                            matched = id;
                            matchedLength = token.Length;
                            break;
                        }
                if (matched < 0)
                {
                    i++;
                    continue;
                }
                if (i > textStart)
                    pieces.Add((textStart, i - textStart, -1));
                pieces.Add((i, matchedLength, matched));
                i += matchedLength;
                textStart = i;
            }
        }
        if (text.Length > textStart)
            pieces.Add((textStart, text.Length - textStart, -1));
        return pieces;
    }
}
