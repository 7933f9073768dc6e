using System.Runtime.InteropServices;

namespace Camelid.Data.Instructions;

/// <summary>
/// Interns ROUGE tokens as small integers, so that LCS compares ints and match masks can be looked up in an
/// array indexed by token id. Not thread-safe for adding; reading ids of known tokens is.
/// </summary>
public sealed class TokenVocabulary
{
    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public TokenVocabulary() => _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _ids.Count;

    /// <summary>The id of <paramref name="token"/>, adding it if new.</summary>
    public int Intern(ReadOnlySpan<char> token)
    {
        ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(_lookup, token, out bool exists);
        if (!exists)
            id = _ids.Count - 1;
        return id;
    }

    /// <summary>The text's ROUGE tokens (<see cref="RougeL.Tokenize"/>) as ids, interning new ones.</summary>
    public int[] Tokenize(string text)
    {
        var ids = new List<int>();
        RougeL.ForEachToken(text, token => ids.Add(Intern(token)));
        return [.. ids];
    }
}
