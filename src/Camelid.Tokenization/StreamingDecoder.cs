using System.Runtime.InteropServices;

namespace Camelid.Tokenization;

/// <summary>
/// Turns generated token ids into text one token at a time. Never emits broken UTF-8: bytes of a character split
/// over several byte tokens (an emoji as &lt;0xF0&gt;&lt;0x9F&gt;...) are held back until the character is complete.
/// The concatenation of every <see cref="Push"/> and a final <see cref="Flush"/> equals <see cref="Tokenizer.Decode"/>
/// of the same ids.
/// At the start of a text the SentencePiece dummy-prefix space of the first piece is dropped, as sentencepiece's
/// decoder does and as llama2.c prints a generation that starts right after BOS. When the decoded tokens continue
/// a prompt ("Once upon a" + "▁time"), pass <c>atStartOfText: false</c> to keep that space.
/// </summary>
public sealed class StreamingDecoder
{
    readonly Tokenizer _tokenizer;
    readonly bool _skipSpecial;
    readonly List<byte> _pending = new(4); // decoded bytes not yet returned: an incomplete UTF-8 sequence
    bool _atTextStart;
    bool _anythingDecoded;

    public StreamingDecoder(Tokenizer tokenizer, bool skipSpecial = true) : this(tokenizer, skipSpecial, atStartOfText: true)
    {
    }

    public StreamingDecoder(Tokenizer tokenizer, bool skipSpecial, bool atStartOfText)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
        _atTextStart = atStartOfText;
        _anythingDecoded = !atStartOfText;
    }

    /// <summary>Text that became complete with this token; empty while a character is still incomplete.</summary>
    public string Push(int id)
    {
        var bytes = _tokenizer.DecodedBytes(id, _skipSpecial, ref _atTextStart, _anythingDecoded);
        if (bytes.IsEmpty)
            return "";
        _anythingDecoded = true;
        _pending.AddRange(bytes);
        var pending = CollectionsMarshal.AsSpan(_pending);
        int stable = Utf8Text.StableLength(pending);
        if (stable == 0)
            return "";
        string text = Utf8Text.Decode(pending[..stable]);
        _pending.RemoveRange(0, stable);
        return text;
    }

    /// <summary>Whatever is still held back (an incomplete character becomes U+FFFD per byte, as in Decode).</summary>
    public string Flush()
    {
        string text = Utf8Text.Decode(CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }
}
