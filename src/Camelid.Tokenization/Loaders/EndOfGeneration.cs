namespace Camelid.Tokenization;

/// <summary>End-of-turn tokens that stop a generation besides EOS, found by their text when a file does not list
/// them (llama.cpp's vocabulary loader does the same for eot/eom).</summary>
static class EndOfGeneration
{
    static readonly string[] KnownTexts =
        ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>"];

    /// <summary>Explicit ids first, then control tokens with a known end-of-turn text; never the EOS id itself.</summary>
    public static IReadOnlyList<int>? ExtraIds(IReadOnlyList<string> tokens, Func<int, TokenType> typeOf, int eosId, IEnumerable<int?> explicitIds)
    {
        var ids = new List<int>();
        foreach (var id in explicitIds)
            if (id is int i && i != eosId && i >= 0 && i < tokens.Count && !ids.Contains(i))
                ids.Add(i);
        for (int id = 0; id < tokens.Count; id++)
            if (id != eosId && !ids.Contains(id) && KnownTexts.Contains(tokens[id]) && typeOf(id) == TokenType.Control)
                ids.Add(id);
        return ids.Count > 0 ? ids : null;
    }
}
