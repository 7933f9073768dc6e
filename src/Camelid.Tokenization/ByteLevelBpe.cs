using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2, LLaMA-3), as openai/gpt-2 encoder.py, HF tokenizers' ByteLevel + BPE and llama.cpp's
/// llm_tokenizer_bpe encode:
/// 1. split the text with the pre-tokenizer regex (<see cref="PreTokenizers"/>);
/// 2. write each piece's UTF-8 bytes in GPT-2's printable byte alphabet (<see cref="ByteAlphabet"/>), one symbol per byte;
/// 3. repeatedly merge the adjacent pair with the lowest merge rank (ties: leftmost), via a priority queue;
/// 4. each final symbol is a vocabulary token.
/// With ignore_merges (LLaMA-3) a piece that is itself a token is taken whole. Results are cached per piece.
/// </summary>
sealed class ByteLevelBpe : Tokenizer
{
    const int MaxCachedWords = 100_000;

    readonly Dictionary<string, int> _ids;      // token text -> id (first id if duplicated)
    readonly Dictionary<long, (int Rank, int Merged)> _merges; // (left id, right id) -> rank and result id
    readonly int[] _byteSymbolIds;              // (256) id of the one-character token of each byte, -1 if absent
    readonly Regex _split;
    readonly bool _ignoreMerges;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    int _cachedWords; // ConcurrentDictionary.Count takes every lock: too slow to ask per word

    public ByteLevelBpe(Vocabulary v) : base(v)
    {
        if (v.Merges == null)
            throw new TokenizerException("a byte-level BPE ('gpt2') vocabulary needs merges (tokenizer.ggml.merges or model.merges in tokenizer.json)");
        _split = PreTokenizers.ForName(v.Pre);
        _ignoreMerges = v.IgnoreMerges ?? PreTokenizers.IsLlama3(v.Pre);
        _ids = new Dictionary<string, int>(v.Tokens.Count, StringComparer.Ordinal);
        for (int id = 0; id < v.Tokens.Count; id++)
            _ids.TryAdd(v.Tokens[id], id);
        _byteSymbolIds = new int[256];
        for (int b = 0; b < 256; b++)
            _byteSymbolIds[b] = _ids.GetValueOrDefault(ByteAlphabet.CharOf((byte)b).ToString(), -1);

        _merges = new Dictionary<long, (int, int)>(v.Merges.Count);
        for (int rank = 0; rank < v.Merges.Count; rank++)
        {
            string merge = v.Merges[rank];
            // The separator is the first space after position 0 (llama.cpp's rule: a token may itself be " ").
            int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            if (space < 0)
                throw new TokenizerException($"merge rule {rank} '{merge}' is not two tokens separated by a space");
            string left = merge[..space], right = merge[(space + 1)..];
            if (!_ids.TryGetValue(left, out int leftId) || !_ids.TryGetValue(right, out int rightId))
                throw new TokenizerException($"merge rule {rank} '{merge}' uses a token that is not in the vocabulary");
            if (!_ids.TryGetValue(left + right, out int mergedId))
                throw new TokenizerException($"merge rule {rank} '{merge}' produces '{left + right}', which is not in the vocabulary");
            _merges.TryAdd(PairKey(leftId, rightId), (rank, mergedId));
        }
    }

    static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    protected override void EncodeText(ReadOnlySpan<char> text, bool atTextStart, List<int> ids)
    {
        if (Vocabulary.AddSpacePrefix && atTextStart && text[0] != ' ')
            text = " " + text.ToString(); // HF ByteLevel add_prefix_space
        foreach (var (start, length) in PreTokenizers.Split(_split, text))
            ids.AddRange(EncodeWord(text.Slice(start, length)));
    }

    int[] EncodeWord(ReadOnlySpan<char> piece)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(piece)];
        Encoding.UTF8.GetBytes(piece, bytes);
        var word = ByteAlphabet.Encode(bytes);
        if (_cache.TryGetValue(word, out var cached))
            return cached;
        int[] result = _ignoreMerges && _ids.TryGetValue(word, out int whole) ? [whole] : Merge(bytes);
        if (Interlocked.Increment(ref _cachedWords) > MaxCachedWords)
        {
            _cache.Clear();
            Interlocked.Exchange(ref _cachedWords, 0);
        }
        _cache.TryAdd(word, result);
        return result;
    }

    /// <summary>A candidate merge of symbols Left and Right, valid while they still hold these token ids.</summary>
    readonly record struct Pair(int Left, int Right, int LeftId, int RightId, int Merged);

    /// <summary>Queue priority, smallest first: lowest rank, then the leftmost pair.</summary>
    static ulong Priority(int rank, int left) => ((ulong)(uint)rank << 32) | (uint)left;

    int[] Merge(byte[] bytes)
    {
        int n = bytes.Length;
        var id = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            id[i] = _byteSymbolIds[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var queue = new PriorityQueue<Pair, ulong>();

        void TryAddPair(int left, int right)
        {
            if (left < 0 || right < 0 || id[left] < 0 || id[right] < 0)
                return;
            if (_merges.TryGetValue(PairKey(id[left], id[right]), out var m))
                queue.Enqueue(new Pair(left, right, id[left], id[right], m.Merged), Priority(m.Rank, left));
        }

        for (int i = 0; i + 1 < n; i++)
            TryAddPair(i, i + 1);
        while (queue.TryDequeue(out var pair, out _))
        {
            int left = pair.Left, right = pair.Right;
            if (id[left] != pair.LeftId || id[right] != pair.RightId || next[left] != right)
                continue; // stale: one side has changed since this pair was queued
            id[left] = pair.Merged;
            id[right] = -2; // merged away
            next[left] = next[right];
            if (next[right] >= 0)
                prev[next[right]] = left;
            TryAddPair(prev[left], left);
            TryAddPair(left, next[left]);
        }

        var result = new List<int>(n);
        for (int i = 0; i >= 0 && n > 0; i = next[i])
        {
            if (id[i] >= 0)
                result.Add(id[i]);
            else if (Vocabulary.UnknownId is int unk)
                result.Add(unk); // the vocabulary lacks this byte's symbol (not the case for GPT-2 or LLaMA-3)
            else
                throw new TokenizerException($"cannot encode byte 0x{bytes[i]:X2}: the vocabulary has no token for it and no unknown token");
        }
        return [.. result];
    }

    protected override byte[] ComputeTokenBytes(int id)
    {
        string piece = Vocabulary.Tokens[id];
        // Added tokens (user-defined, and normal ones outside the byte alphabet) are stored as plain text.
        if (Types[id] == TokenType.UserDefined || !ByteAlphabet.TryDecode(piece, out var bytes))
            return Encoding.UTF8.GetBytes(piece);
        return bytes;
    }
}

/// <summary>
/// GPT-2's bytes_to_unicode (openai/gpt-2 encoder.py): printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
/// themselves, the other 68 bytes map in order to U+0100.., so every byte string becomes printable text without spaces.
/// </summary>
static class ByteAlphabet
{
    static readonly char[] ByteToChar = new char[256];
    static readonly Dictionary<char, byte> CharToByte = new(256);

    static ByteAlphabet()
    {
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            ByteToChar[b] = printable ? (char)b : (char)(256 + extra++);
            CharToByte[ByteToChar[b]] = (byte)b;
        }
    }

    public static char CharOf(byte b) => ByteToChar[b];

    public static string Encode(byte[] bytes) =>
        string.Create(bytes.Length, bytes, (chars, src) =>
        {
            for (int i = 0; i < src.Length; i++)
                chars[i] = ByteToChar[src[i]];
        });

    /// <summary>The bytes a byte-alphabet string stands for; false if it has a character outside the alphabet.</summary>
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
            if (!CharToByte.TryGetValue(text[i], out bytes[i]))
                return false;
        return true;
    }
}
