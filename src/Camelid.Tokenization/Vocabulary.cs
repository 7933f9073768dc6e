namespace Camelid.Tokenization;

/// <summary>Token kinds, numbered as GGUF's <c>tokenizer.ggml.token_type</c> and SentencePiece's ModelProto.SentencePiece.Type.</summary>
public enum TokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// Everything a tokenizer needs, independent of the file it came from (GGUF keys, tokenizer.model,
/// tokenizer.json or llama2.c tokenizer.bin). <see cref="Model"/> picks the algorithm:
/// "llama" = SentencePiece BPE (merge by piece score, byte fallback), "gpt2" = byte-level BPE (merge by rank).
/// </summary>
/// <param name="Model">"llama" or "gpt2", as GGUF <c>tokenizer.ggml.model</c>.</param>
/// <param name="Pre">GGUF <c>tokenizer.ggml.pre</c>: which split regex a byte-level BPE uses ("gpt-2", "llama-bpe", ...).</param>
/// <param name="Tokens">Piece strings, indexed by id. SentencePiece pieces use U+2581 for a space; byte-level pieces use GPT-2's byte-to-unicode alphabet.</param>
/// <param name="Scores">SentencePiece merge priorities (higher merges first); null for byte-level BPE.</param>
/// <param name="Types">Token kinds; null means "infer": BOS/EOS control, UNK unknown, "&lt;0xNN&gt;" byte tokens for "llama".</param>
/// <param name="Merges">Byte-level BPE merge rules "left right", highest priority first; null for SentencePiece.</param>
/// <param name="ExtraEosIds">Further ids that end a generation besides <paramref name="EosId"/> (LLaMA-3 &lt;|eot_id|&gt;).</param>
public sealed record Vocabulary(
    string Model,
    string? Pre,
    IReadOnlyList<string> Tokens,
    float[]? Scores,
    TokenType[]? Types,
    IReadOnlyList<string>? Merges,
    int BosId,
    int EosId,
    int? UnknownId,
    int? PaddingId,
    bool AddBos,
    bool AddEos,
    bool AddSpacePrefix,
    IReadOnlyList<int>? ExtraEosIds = null)
{
    public const string SentencePieceModel = "llama";
    public const string ByteLevelModel = "gpt2";

    /// <summary>
    /// SentencePiece <c>normalizer_spec.remove_extra_whitespaces</c>: drop leading and trailing spaces and collapse
    /// runs of spaces before tokenizing. LLaMA's tokenizer.model has it off; models trained with sentencepiece's
    /// defaults (tok512.model) have it on. GGUF key <c>tokenizer.ggml.remove_extra_whitespaces</c>.
    /// </summary>
    public bool RemoveExtraWhitespaces { get; init; }

    /// <summary>
    /// Byte-level BPE only: a pre-token that is itself in the vocabulary is emitted whole, without merging
    /// (HF tokenizers' <c>ignore_merges</c>; LLaMA-3). Null: on for the LLaMA-3 pre-tokenizer, off otherwise.
    /// </summary>
    public bool? IgnoreMerges { get; init; }

    /// <summary>SentencePiece <c>trainer_spec.unk_surface</c>: the text an UNK token decodes to. Null: sentencepiece's
    /// default " \u2047 " (the same for files that do not store it: GGUF, tokenizer.bin, tokenizer.json).</summary>
    public string? UnknownSurface { get; init; }

    /// <summary>Token kind of <paramref name="id"/>, applying the same inference as the tokenizer when <see cref="Types"/> is null.</summary>
    public TokenType TypeOf(int id)
    {
        if (Types != null)
            return Types[id];
        if (id == BosId || id == EosId)
            return TokenType.Control;
        if (id == UnknownId)
            return TokenType.Unknown;
        if (Model == SentencePieceModel && ByteTokens.TryParse(Tokens[id], out _))
            return TokenType.Byte;
        return TokenType.Normal;
    }

    /// <summary>Checks sizes and ids once, so the tokenizers can index without further checks.</summary>
    internal void Validate()
    {
        int n = Tokens.Count;
        if (n == 0)
            throw new TokenizerException("the vocabulary has no tokens");
        if (Scores != null && Scores.Length != n)
            throw new TokenizerException($"the vocabulary has {n} tokens but {Scores.Length} scores; the tokenizer file is inconsistent");
        if (Types != null && Types.Length != n)
            throw new TokenizerException($"the vocabulary has {n} tokens but {Types.Length} token types; the tokenizer file is inconsistent");
        if (Types != null)
            for (int i = 0; i < n; i++)
                if (!Enum.IsDefined(Types[i]))
                    throw new TokenizerException($"token {i} has unknown token type {(int)Types[i]} (expected 1..6)");
        for (int i = 0; i < n; i++)
            if (Tokens[i] is null)
                throw new TokenizerException($"token {i} has no text");
        CheckId(BosId, "BOS", allowNone: true);
        CheckId(EosId, "EOS", allowNone: true);
        if (UnknownId is int unk) CheckId(unk, "unknown-token", allowNone: false);
        if (PaddingId is int pad) CheckId(pad, "padding", allowNone: false);
        foreach (var id in ExtraEosIds ?? [])
            CheckId(id, "end-of-generation", allowNone: false);
        if (AddBos && BosId < 0)
            throw new TokenizerException("the vocabulary asks to add BOS but has no BOS token");

        void CheckId(int id, string what, bool allowNone)
        {
            if ((id < 0 && !(allowNone && id == -1)) || id >= n)
                throw new TokenizerException($"the {what} token id {id} is outside the vocabulary (0..{n - 1}); the tokenizer file is inconsistent");
        }
    }
}

/// <summary>SentencePiece byte-fallback pieces "&lt;0x00&gt;".."&lt;0xFF&gt;".</summary>
static class ByteTokens
{
    public static string Piece(byte b) => $"<0x{b:X2}>";

    public static bool TryParse(string piece, out byte value)
    {
        value = 0;
        if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>')
            return false;
        return byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
    }
}
