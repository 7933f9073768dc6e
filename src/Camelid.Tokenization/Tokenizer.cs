using System.Text;

namespace Camelid.Tokenization;

/// <summary>
/// Text to token ids and back. <see cref="Create"/> picks SentencePiece BPE ("llama") or byte-level BPE ("gpt2")
/// from the vocabulary. Instances are immutable and safe to share between threads.
/// </summary>
public abstract class Tokenizer
{
    readonly byte[][] _tokenBytes;           // (VocabSize) what each token contributes to decoded text
    readonly SpecialTokenMatcher _userDefined; // split out of every text, like sentencepiece and llama.cpp do
    readonly SpecialTokenMatcher _special;     // control + unknown + user-defined, split out when parseSpecial
    readonly HashSet<int> _endOfGeneration;

    protected Tokenizer(Vocabulary vocabulary)
    {
        Vocabulary = vocabulary;
        var types = new TokenType[vocabulary.Tokens.Count];
        for (int id = 0; id < types.Length; id++)
            types[id] = vocabulary.TypeOf(id);
        Types = types;
        _userDefined = new SpecialTokenMatcher(vocabulary.Tokens, types, t => t == TokenType.UserDefined);
        _special = new SpecialTokenMatcher(vocabulary.Tokens, types,
            t => t is TokenType.UserDefined or TokenType.Control or TokenType.Unknown);
        _endOfGeneration = [.. vocabulary.ExtraEosIds ?? []];
        if (vocabulary.EosId >= 0)
            _endOfGeneration.Add(vocabulary.EosId);
        _tokenBytes = new byte[types.Length][];
    }

    /// <summary>Validates the vocabulary and builds the tokenizer its <see cref="Vocabulary.Model"/> names.</summary>
    public static Tokenizer Create(Vocabulary v)
    {
        ArgumentNullException.ThrowIfNull(v);
        v.Validate();
        return v.Model switch
        {
            Vocabulary.SentencePieceModel => new SentencePieceBpe(v),
            Vocabulary.ByteLevelModel => new ByteLevelBpe(v),
            _ => throw new TokenizerException(
                $"tokenizer model '{v.Model}' is not supported; supported: '{Vocabulary.SentencePieceModel}' (SentencePiece BPE) and '{Vocabulary.ByteLevelModel}' (byte-level BPE)"),
        };
    }

    public Vocabulary Vocabulary { get; }
    public int VocabSize => Vocabulary.Tokens.Count;
    public int BosId => Vocabulary.BosId;
    public int EosId => Vocabulary.EosId;
    public bool AddBosByDefault => Vocabulary.AddBos;

    /// <summary>(VocabSize) token kinds, inferred where the vocabulary had none.</summary>
    protected IReadOnlyList<TokenType> Types { get; }

    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    public bool IsControl(int id) => (uint)id < (uint)VocabSize && Types[id] == TokenType.Control;

    public TokenType TypeOf(int id) => Types[CheckId(id)];

    /// <summary>The vocabulary string, for display.</summary>
    public string TokenPiece(int id) => Vocabulary.Tokens[CheckId(id)];

    /// <summary>
    /// Token ids for <paramref name="text"/>. User-defined tokens are always matched as whole tokens; with
    /// <paramref name="parseSpecial"/> control tokens written as text ("&lt;s&gt;", "&lt;|eot_id|&gt;") are too.
    /// EOS is never appended.
    /// </summary>
    public int[] Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos)
        {
            if (BosId < 0)
                throw new TokenizerException("this vocabulary has no BOS token; encode with addBos: false");
            ids.Add(BosId);
        }
        bool afterSpecial = true; // the text start counts as "after a special token" for the SentencePiece dummy prefix
        foreach (var (start, length, tokenId) in (parseSpecial ? _special : _userDefined).Split(text))
        {
            if (tokenId >= 0)
            {
                ids.Add(tokenId);
                afterSpecial = true;
            }
            else
            {
                EncodeText(text.AsSpan(start, length), afterSpecial, ids);
                afterSpecial = false;
            }
        }
        return [.. ids];
    }

    /// <summary>Appends the ids of a run of plain text (no special tokens in it).</summary>
    /// <param name="atTextStart">True at the beginning of the input and right after a special token, where
    /// SentencePiece adds its dummy prefix (llama.cpp's rule).</param>
    protected abstract void EncodeText(ReadOnlySpan<char> text, bool atTextStart, List<int> ids);

    /// <summary>Raw bytes this token contributes when decoding (a byte token its byte, "▁" a space, GPT-2's byte
    /// alphabet undone); empty for control tokens. A fresh copy.</summary>
    public byte[] TokenBytes(int id) => CachedTokenBytes(CheckId(id)).ToArray();

    /// <summary>The shared, never modified bytes behind <see cref="TokenBytes"/>. Filled lazily; a race only computes
    /// the same bytes twice.</summary>
    byte[] CachedTokenBytes(int id) => _tokenBytes[id] ??= Types[id] == TokenType.Control ? [] : ComputeTokenBytes(id);

    protected abstract byte[] ComputeTokenBytes(int id);

    /// <summary>True if, at the start of a decoded text, this token's first byte (a space) is dropped: the
    /// SentencePiece dummy prefix, undone like sentencepiece's decoder does.</summary>
    protected virtual bool DropsLeadingSpaceAtStart(int id) => false;

    /// <summary>True if the leading-space rule stays on after a piece lost its space while the text is still empty.</summary>
    protected virtual bool KeepsDroppingLeadingSpaces => false;

    /// <summary>Text of <paramref name="ids"/>. With <paramref name="skipSpecial"/> control tokens produce nothing,
    /// otherwise their vocabulary string. SentencePiece's leading dummy-prefix space is removed as sentencepiece does;
    /// invalid UTF-8 from byte tokens becomes U+FFFD per byte.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = true)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool atTextStart = true;
        foreach (var id in ids)
            bytes.AddRange(DecodedBytes(id, skipSpecial, ref atTextStart, bytes.Count > 0));
        return Utf8Text.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>Bytes to append for one token; the shared step of <see cref="Decode"/> and <see cref="StreamingDecoder"/>.</summary>
    /// <param name="atTextStart">Decoder state for sentencepiece's "drop the dummy-prefix space" rule; starts true.</param>
    /// <param name="anythingDecoded">Whether any byte has been produced so far.</param>
    internal ReadOnlySpan<byte> DecodedBytes(int id, bool skipSpecial, ref bool atTextStart, bool anythingDecoded)
    {
        CheckId(id);
        var type = Types[id];
        if (type == TokenType.Control)
        {
            if (skipSpecial)
                return [];
            atTextStart = false;
            return Encoding.UTF8.GetBytes(Vocabulary.Tokens[id]);
        }
        var bytes = CachedTokenBytes(id);
        if (type == TokenType.Byte)
            return bytes;
        // sentencepiece (DecodeSentencePiece): a non-byte piece loses its leading space only while nothing has been
        // decoded and no earlier piece lost one; with remove_extra_whitespaces every such leading space goes.
        if (anythingDecoded)
            atTextStart = false;
        if (atTextStart && DropsLeadingSpaceAtStart(id))
        {
            atTextStart = KeepsDroppingLeadingSpaces;
            return bytes.AsSpan(1);
        }
        return bytes;
    }

    protected int CheckId(int id) => (uint)id < (uint)VocabSize
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary (0..{VocabSize - 1})");
}
