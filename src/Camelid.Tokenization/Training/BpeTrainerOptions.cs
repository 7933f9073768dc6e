namespace Camelid.Tokenization.Training;

/// <summary>Settings of <see cref="BpeTrainer.Train"/>, named after sentencepiece's spm_train flags where one exists.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Total pieces, counting &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, user-defined symbols, byte pieces and
    /// characters (spm_train --vocab_size). The result is smaller when the corpus runs out of pairs to merge.</summary>
    public int VocabSize { get; init; } = 8000;

    /// <summary>Add the 256 &lt;0xNN&gt; pieces, so characters without a piece are encoded as their UTF-8 bytes
    /// instead of &lt;unk&gt; (--byte_fallback; LLaMA has it on).</summary>
    public bool ByteFallback { get; init; } = true;

    /// <summary>Put a "▁" in front of each text, so a word at the start looks like one after a space
    /// (normalizer_spec.add_dummy_prefix).</summary>
    public bool AddDummyPrefix { get; init; } = true;

    /// <summary>Strings that always become one token (--user_defined_symbols), such as "&lt;|im_start|&gt;".</summary>
    public IReadOnlyList<string> UserDefinedSymbols { get; init; } = [];

    /// <summary>Longest merged piece, in Unicode characters (--max_sentencepiece_length).</summary>
    public int MaxPieceLength { get; init; } = 16;

    /// <summary>Share of the corpus's characters that get a piece of their own, the most frequent first; the rarest
    /// rest goes through byte fallback (--character_coverage).</summary>
    public double CharacterCoverage { get; init; } = 0.9995;

    /// <summary>Keep every digit a piece of its own, so numbers are encoded one digit per token (--split_digits;
    /// LLaMA has it on). Arithmetic is far easier to learn over digits than over arbitrary multi-digit pieces.</summary>
    public bool SplitDigits { get; init; }

    /// <summary>A character seen fewer times than this gets no piece, whatever the coverage.</summary>
    public long MinCharacterCount { get; init; } = 1;

    /// <summary>Threads for reading the corpus. The result does not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    internal void Validate()
    {
        if (VocabSize <= 0)
            throw new ArgumentException($"vocabulary size must be positive (got {VocabSize})");
        if (MaxPieceLength is < 1 or > 512)
            throw new ArgumentException($"maximum piece length must be 1..512 characters (got {MaxPieceLength})");
        if (!(CharacterCoverage > 0 && CharacterCoverage <= 1))
            throw new ArgumentException($"character coverage must be in (0, 1] (got {CharacterCoverage})");
        if (Threads < 1)
            throw new ArgumentException($"threads must be at least 1 (got {Threads})");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var symbol in UserDefinedSymbols)
        {
            if (string.IsNullOrEmpty(symbol))
                throw new ArgumentException("a user-defined symbol cannot be empty");
            if (symbol is BpeTrainer.UnknownPiece or BpeTrainer.BosPiece or BpeTrainer.EosPiece || ByteTokens.TryParse(symbol, out _))
                throw new ArgumentException($"'{symbol}' is a reserved piece and cannot be a user-defined symbol");
            if (!seen.Add(symbol))
                throw new ArgumentException($"user-defined symbol '{symbol}' is given twice");
        }
    }
}
