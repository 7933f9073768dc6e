using System.Text;

namespace Camelid.Tokenization;

/// <summary>
/// SentencePiece BPE (LLaMA-1/2, Vicuna, TinyStories models), as sentencepiece's bpe_model.cc and llama.cpp's
/// llm_tokenizer_spm encode:
/// 1. normalize: spaces become U+2581 "▁"; a "▁" dummy prefix goes in front of the text (and, as llama.cpp does,
///    in front of text that follows a special token); with remove_extra_whitespaces leading/trailing spaces are
///    dropped and runs of spaces collapse to one first;
/// 2. start from one symbol per Unicode character;
/// 3. repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the highest score
///    (ties: leftmost pair), using a priority queue of candidate pairs;
/// 4. a final symbol that is not a piece becomes its UTF-8 bytes as &lt;0xNN&gt; tokens (byte fallback), or UNK.
/// Merge targets are the normal, user-defined and unused pieces (sentencepiece's <c>pieces_</c>); control, unknown
/// and byte pieces never form by merging. A merged unused piece is split back into its halves (sentencepiece's
/// resegmentation).
/// </summary>
sealed class SentencePieceBpe : Tokenizer
{
    const char SpaceSymbol = '\u2581';
    const string DefaultUnknownSurface = " \u2047 "; // sentencepiece's trainer_spec.unk_surface default

    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces; // mergeable piece -> id
    readonly float[] _scores;   // (VocabSize)
    readonly int[] _byteIds;    // (256) id of <0xNN>, -1 where the vocabulary has none
    readonly bool _hasUnused;
    readonly bool _addSpacePrefix, _removeExtraWhitespaces;

    public SentencePieceBpe(Vocabulary v) : base(v)
    {
        var pieces = new Dictionary<string, int>(v.Tokens.Count, StringComparer.Ordinal);
        _byteIds = new int[256];
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < v.Tokens.Count; id++)
        {
            switch (Types[id])
            {
                case TokenType.Normal or TokenType.UserDefined or TokenType.Unused:
                    pieces.TryAdd(v.Tokens[id], id);
                    _hasUnused |= Types[id] == TokenType.Unused;
                    break;
                case TokenType.Byte when ByteTokens.TryParse(v.Tokens[id], out byte b) && _byteIds[b] < 0:
                    _byteIds[b] = id;
                    break;
            }
        }
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _scores = v.Scores ?? new float[v.Tokens.Count];
        _addSpacePrefix = v.AddSpacePrefix;
        _removeExtraWhitespaces = v.RemoveExtraWhitespaces;
    }

    protected override void EncodeText(ReadOnlySpan<char> text, bool atTextStart, List<int> ids)
    {
        var normalized = Normalize(text, atTextStart && _addSpacePrefix);
        if (normalized.Length > 0)
            Segment(normalized, ids);
    }

    /// <summary>sentencepiece's normalizer with the "identity" rule (normalizer.cc Normalize).</summary>
    string Normalize(ReadOnlySpan<char> text, bool addDummyPrefix)
    {
        if (_removeExtraWhitespaces)
        {
            text = text.TrimStart(' ');
            if (text.IsEmpty)
                return "";
        }
        var sb = new StringBuilder(text.Length + 1);
        if (addDummyPrefix)
            sb.Append(SpaceSymbol);
        bool previousWasSpace = _removeExtraWhitespaces;
        foreach (char c in text)
        {
            if (c == ' ')
            {
                if (!previousWasSpace)
                    sb.Append(SpaceSymbol);
                previousWasSpace = _removeExtraWhitespaces;
            }
            else
            {
                sb.Append(c);
                previousWasSpace = false;
            }
        }
        if (_removeExtraWhitespaces)
            while (sb.Length > 0 && sb[^1] == SpaceSymbol)
                sb.Length--;
        return sb.ToString();
    }

    /// <summary>A candidate merge of symbols Left and Right, valid while their lengths still add up to Length.</summary>
    readonly record struct Pair(int Left, int Right, int Length);

    /// <summary>Queue priority, smallest first: higher score first, then the leftmost pair (bpe_model.cc's agenda
    /// order). The score's bits are mapped to an unsigned key that sorts like the float, then inverted.</summary>
    static ulong Priority(float score, int left)
    {
        uint bits = BitConverter.SingleToUInt32Bits(score);
        uint ascending = (bits & 0x8000_0000) != 0 ? ~bits : bits | 0x8000_0000;
        return ((ulong)~ascending << 32) | (uint)left;
    }

    void Segment(string s, List<int> ids)
    {
        // Symbols are spans of s kept in a doubly linked list; a merged-away symbol has length 0.
        int n = 0;
        var start = new int[s.Length];
        var length = new int[s.Length];
        for (int i = 0; i < s.Length; n++)
        {
            int len = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            start[n] = i;
            length[n] = len;
            i += len;
        }
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<Pair, ulong>();
        Dictionary<string, (string Left, string Right)>? unusedHalves = _hasUnused ? new(StringComparer.Ordinal) : null;

        void TryAddPair(int left, int right)
        {
            if (left < 0 || right < 0)
                return;
            int merged = length[left] + length[right];
            if (_pieces.TryGetValue(s.AsSpan(start[left], merged), out int id))
                queue.Enqueue(new Pair(left, right, merged), Priority(_scores[id], left));
        }

        for (int i = 0; i + 1 < n; i++)
            TryAddPair(i, i + 1);

        while (queue.TryDequeue(out var pair, out _))
        {
            int left = pair.Left, right = pair.Right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != pair.Length)
                continue; // stale: one side has merged with something else since
            if (unusedHalves != null && _pieces.TryGetValue(s.AsSpan(start[left], pair.Length), out int mergedId) && Types[mergedId] == TokenType.Unused)
                unusedHalves[s.Substring(start[left], pair.Length)] = (s.Substring(start[left], length[left]), s.Substring(start[right], length[right]));
            length[left] = pair.Length;
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
                prev[next[right]] = left;
            TryAddPair(prev[left], left);
            TryAddPair(left, next[left]);
        }

        for (int i = 0; i >= 0 && n > 0; i = next[i])
            Emit(s.AsSpan(start[i], length[i]), ids, unusedHalves);
    }

    void Emit(ReadOnlySpan<char> symbol, List<int> ids, Dictionary<string, (string Left, string Right)>? unusedHalves)
    {
        if (_pieces.TryGetValue(symbol, out int id))
        {
            if (Types[id] == TokenType.Unused && unusedHalves != null && unusedHalves.TryGetValue(symbol.ToString(), out var halves))
            {
                Emit(halves.Left, ids, unusedHalves);
                Emit(halves.Right, ids, unusedHalves);
            }
            else
                ids.Add(id);
            return;
        }
        Span<byte> utf8 = stackalloc byte[8];
        int count = Encoding.UTF8.GetBytes(symbol, utf8); // a symbol that is not a piece is a single character
        utf8 = utf8[..count];
        bool haveAllBytes = true;
        foreach (byte b in utf8)
            haveAllBytes &= _byteIds[b] >= 0;
        if (haveAllBytes)
            foreach (byte b in utf8)
                ids.Add(_byteIds[b]);
        else if (Vocabulary.UnknownId is int unk)
            ids.Add(unk); // sentencepiece without byte fallback: one UNK per unknown character
        else
            throw new TokenizerException($"cannot encode the character '{symbol}' (UTF-8 {Convert.ToHexString(utf8)}): the vocabulary has neither byte tokens for it nor an unknown token");
    }

    protected override byte[] ComputeTokenBytes(int id) => Types[id] switch
    {
        TokenType.Byte when ByteTokens.TryParse(Vocabulary.Tokens[id], out byte b) => [b],
        TokenType.Unknown => Encoding.UTF8.GetBytes(Vocabulary.UnknownSurface ?? DefaultUnknownSurface),
        _ => Encoding.UTF8.GetBytes(Vocabulary.Tokens[id].Replace(SpaceSymbol, ' ')),
    };

    protected override bool DropsLeadingSpaceAtStart(int id) =>
        (_addSpacePrefix || _removeExtraWhitespaces)
        && Types[id] is TokenType.Normal or TokenType.UserDefined or TokenType.Unused
        && Vocabulary.Tokens[id].StartsWith(SpaceSymbol);

    protected override bool KeepsDroppingLeadingSpaces => _removeExtraWhitespaces;
}
