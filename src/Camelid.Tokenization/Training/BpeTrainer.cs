using System.Text;

namespace Camelid.Tokenization.Training;

/// <summary>
/// Learns a SentencePiece BPE vocabulary (spm_train --model_type=bpe) from text, and extends an existing one with the
/// pieces of a new language (the Chinese-LLaMA recipe). The result is an ordinary "llama" <see cref="Vocabulary"/>:
/// <see cref="Tokenizer.Create"/> encodes with it and <see cref="SentencePieceModelWriter"/> writes it as tokenizer.model.
///
/// Ids are laid out as sentencepiece's trainer lays them out (trainer_interface.cc InitMetaPieces, Serialize):
///   0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;; then the user-defined symbols; then, with byte fallback, the 256 pieces
///   &lt;0x00&gt;..&lt;0xFF&gt; (so without user-defined symbols bytes are ids 3..258, as in LLaMA's tokenizer.model);
///   then the merged pieces in the order they were learned; then the single characters, most frequent first.
/// Scores as bpe_model_trainer.cc writes them: reserved pieces 0; the i-th merged-or-character piece -i, so earlier
/// merges score higher and the encoder, which merges the highest-scoring pair first, replays the training order.
/// </summary>
public static class BpeTrainer
{
    internal const string UnknownPiece = "<unk>", BosPiece = "<s>", EosPiece = "</s>";
    const int UnknownId = 0, BosId = 1, EosId = 2;

    /// <summary>Trains a vocabulary of at most <see cref="BpeTrainerOptions.VocabSize"/> pieces on <paramref name="texts"/>.
    /// Each text is normalized on its own, with the dummy prefix at its start (a newline inside is a character).</summary>
    /// <exception cref="ArgumentException">Bad options, an empty corpus, or a vocabulary size below the pieces the
    /// corpus needs (reserved pieces plus one per character kept).</exception>
    public static Vocabulary Train(IEnumerable<string> texts, BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var reserved = new List<(string Piece, TokenType Type)>
        {
            (UnknownPiece, TokenType.Unknown), (BosPiece, TokenType.Control), (EosPiece, TokenType.Control),
        };
        reserved.AddRange(options.UserDefinedSymbols.Select(s => (s, TokenType.UserDefined)));
        if (options.ByteFallback)
            for (int b = 0; b < 256; b++)
                reserved.Add((ByteTokens.Piece((byte)b), TokenType.Byte));

        var words = WordCounts.Count(texts, options.AddDummyPrefix, removeExtraWhitespaces: false,
            options.UserDefinedSymbols, options.Threads).Words;
        var characters = KeptCharacters(words, options.CharacterCoverage, options.MinCharacterCount);
        int mergeBudget = options.VocabSize - reserved.Count - characters.Count;
        if (mergeBudget < 0)
            throw new ArgumentException(
                $"vocabulary size {options.VocabSize} is too small: this corpus needs {reserved.Count + characters.Count} pieces before any merge " +
                $"({reserved.Count} reserved: <unk>, <s>, </s>, {options.UserDefinedSymbols.Count} user-defined{(options.ByteFallback ? ", 256 bytes" : "")}; " +
                $"and {characters.Count} characters)");

        var merger = new PairMerger(words, characters, reserved.Select(r => r.Piece), options.MaxPieceLength, options.SplitDigits);
        var learned = merger.Merges().Take(mergeBudget).Concat(characters).ToList();

        var tokens = new List<string>(reserved.Count + learned.Count);
        var types = new List<TokenType>(tokens.Capacity);
        var scores = new List<float>(tokens.Capacity);
        foreach (var (piece, type) in reserved)
        {
            tokens.Add(piece);
            types.Add(type);
            scores.Add(0);
        }
        for (int i = 0; i < learned.Count; i++)
        {
            tokens.Add(learned[i]);
            types.Add(TokenType.Normal);
            scores.Add(-i);
        }
        var vocabulary = new Vocabulary(Vocabulary.SentencePieceModel, null, tokens, [.. scores], [.. types], null,
            BosId, EosId, UnknownId, PaddingId: null, AddBos: true, AddEos: false, AddSpacePrefix: options.AddDummyPrefix);
        vocabulary.Validate();
        return vocabulary;
    }

    /// <summary>
    /// The Chinese-LLaMA recipe: learns pieces from <paramref name="texts"/> (normalized as the base normalizes) and
    /// appends up to <paramref name="addPieces"/> of them that the base lacks, after all existing ids. Every old id,
    /// piece, score and type stays as it was, so a model trained on the base keeps its embeddings row for row.
    /// New characters come first in the selection (without them the new merges could never start), then merged
    /// pieces in learned order; they are appended merges first, as <see cref="Train"/> orders them. Their scores run
    /// downward from one below the base's lowest score, so wherever a base piece and a new piece compete the base's
    /// merge wins and text the base already covered is encoded as before, except where a new piece continues it.
    /// </summary>
    /// <exception cref="ArgumentException">The base is not a SentencePiece vocabulary, nothing to add, or an empty corpus.</exception>
    public static Vocabulary Extend(Vocabulary baseVocabulary, IEnumerable<string> texts, int addPieces,
        int maxPieceLength = 16, double characterCoverage = 0.9995, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(baseVocabulary);
        ArgumentNullException.ThrowIfNull(texts);
        if (baseVocabulary.Model != Vocabulary.SentencePieceModel)
            throw new ArgumentException($"only a SentencePiece (\"{Vocabulary.SentencePieceModel}\") vocabulary can be extended; this one is \"{baseVocabulary.Model}\"");
        if (addPieces <= 0)
            throw new ArgumentException($"the number of pieces to add must be positive (got {addPieces})");
        baseVocabulary.Validate();
        var options = new BpeTrainerOptions
        {
            MaxPieceLength = maxPieceLength,
            CharacterCoverage = characterCoverage,
            Threads = threads > 0 ? threads : Environment.ProcessorCount,
        };
        options.Validate();

        int baseCount = baseVocabulary.Tokens.Count;
        var baseTypes = Enumerable.Range(0, baseCount).Select(baseVocabulary.TypeOf).ToArray();
        var basePieces = new HashSet<string>(baseVocabulary.Tokens, StringComparer.Ordinal);
        var userDefined = Enumerable.Range(0, baseCount).Where(id => baseTypes[id] == TokenType.UserDefined)
            .Select(id => baseVocabulary.Tokens[id]).ToList();

        var words = WordCounts.Count(texts, baseVocabulary.AddSpacePrefix, baseVocabulary.RemoveExtraWhitespaces,
            userDefined, options.Threads).Words;
        var characters = KeptCharacters(words, options.CharacterCoverage, options.MinCharacterCount);
        var newCharacters = characters.Where(c => !basePieces.Contains(c)).Take(addPieces).ToList();
        int mergeBudget = addPieces - newCharacters.Count;
        var merger = new PairMerger(words, characters, [], options.MaxPieceLength);
        var newMerges = merger.Merges().Where(p => !basePieces.Contains(p)).Take(mergeBudget).ToList();
        var added = newMerges.Concat(newCharacters).ToList();
        if (added.Count == 0)
            throw new ArgumentException("the new text has no pieces that the base vocabulary lacks; nothing to add");

        float lowest = baseVocabulary.Scores is { Length: > 0 } s ? s.Min() : 0f;
        var tokens = baseVocabulary.Tokens.Concat(added).ToList();
        var scores = (baseVocabulary.Scores ?? new float[baseCount]).Concat(added.Select((_, i) => lowest - 1 - i)).ToArray();
        var types = baseTypes.Concat(added.Select(_ => TokenType.Normal)).ToArray();
        var extended = baseVocabulary with { Tokens = tokens, Scores = scores, Types = types };
        extended.Validate();
        return extended;
    }

    /// <summary>
    /// Characters that get a piece of their own, most frequent first, then by code point (trainer_interface.cc
    /// LoadSentences): taken while the share of the corpus already covered is below <paramref name="coverage"/>.
    /// </summary>
    static List<string> KeptCharacters(IReadOnlyList<(string Word, long Count)> words, double coverage, long minCount)
    {
        var counts = new Dictionary<int, long>();
        long total = 0;
        foreach (var (word, count) in words)
            for (int i = 0; i < word.Length;)
            {
                var status = Rune.DecodeFromUtf16(word.AsSpan(i), out var rune, out int used);
                i += used;
                if (status != System.Buffers.OperationStatus.Done || rune.Value == 0)
                    continue; // an unpaired surrogate has no UTF-8 form, and sentencepiece rejects NUL in pieces
                counts[rune.Value] = counts.GetValueOrDefault(rune.Value) + count;
                total += count;
            }
        if (total == 0)
            throw new ArgumentException("the training text is empty: no characters to learn from");
        var kept = new List<string>();
        long covered = 0;
        foreach (var (codePoint, count) in counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key))
        {
            if ((double)covered / total >= coverage || count < minCount)
                break;
            covered += count;
            kept.Add(char.ConvertFromUtf32(codePoint));
        }
        return kept;
    }
}
