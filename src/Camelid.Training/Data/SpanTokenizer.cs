using Camelid.Tokenization;

namespace Camelid.Training.Data;

/// <summary>
/// Encodes an example span by span, so that which tokens are trained follows from which span they came from, never
/// from tokenizing the whole text and subtracting lengths.
///
/// The boundary rule. Encoding pieces separately could change the text: a SentencePiece vocabulary with the dummy
/// prefix puts a "▁" (a space) in front of every separately encoded text. So:
/// <list type="bullet">
/// <item>At the start of the sequence and right after a control token, text is encoded as the inference prompt is
///   (<see cref="Tokenization.ChatTemplates.ChatTemplate.Encode"/>, llama.cpp): with the dummy prefix. Training and
///   generation then see the same prompt tokens.</item>
/// <item>A span that continues plain text (a reply after its "ASSISTANT:" header, an Alpaca response after
///   "### Response:") is encoded as a continuation: exactly its own text, no space added. For a SentencePiece
///   vocabulary with a dummy prefix, a leading space of the span is written by the dummy prefix ("▁" is that space),
///   otherwise the span is encoded without one. SentencePiece pieces and byte-level BPE pre-tokens begin at a space,
///   so a span boundary just before a space, or at a word start, gives the tokens that tokenizing the whole text
///   would give in practice.</item>
/// </list>
/// Control-token text ("&lt;/s&gt;", "&lt;|eot_id|&gt;") becomes its id when the vocabulary has it as a control or
/// user-defined token. "&lt;s&gt;" and "&lt;/s&gt;", which the LLaMA-family templates write for BOS and EOS, become the
/// vocabulary's BOS and EOS when it names them differently (e.g. GPT-2's &lt;|endoftext|&gt;). Other control text the
/// vocabulary lacks (ChatML's &lt;|im_end|&gt; on a LLaMA-2 vocabulary) is encoded as plain text and trained as such;
/// generation stops on it as a stop string.
/// </summary>
internal sealed class SpanTokenizer
{
    const string LlamaBos = "<s>";
    const string LlamaEos = "</s>";

    readonly Tokenizer _tokenizer;
    readonly Tokenizer? _withoutDummyPrefix; // null when no piece ever gets a dummy prefix
    readonly Dictionary<string, (int[] Ids, bool IsToken)> _specialIds = new(StringComparer.Ordinal);
    readonly Lock _lock = new();

    public SpanTokenizer(Tokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        var vocabulary = tokenizer.Vocabulary;
        if (vocabulary.Model == Vocabulary.SentencePieceModel && vocabulary.AddSpacePrefix)
            _withoutDummyPrefix = Tokenizer.Create(vocabulary with { AddSpacePrefix = false });
    }

    public Tokenizer Tokenizer => _tokenizer;

    /// <summary>BOS when the tokenizer adds one by default (LLaMA's do; GPT-2's does not), as for an inference prompt.</summary>
    public bool AddsBos => _tokenizer.AddBosByDefault && _tokenizer.BosId >= 0;

    /// <summary>Plain text; <paramref name="continuesText"/> when it directly follows plain text of the same sequence.</summary>
    public int[] Plain(string text, bool continuesText)
    {
        if (text.Length == 0)
            return [];
        if (!continuesText || _withoutDummyPrefix == null)
            return _tokenizer.Encode(text, addBos: false);
        if (text.Length > 1 && text[0] == ' ')
            return _tokenizer.Encode(text[1..], addBos: false);
        return _withoutDummyPrefix.Encode(text, addBos: false);
    }

    /// <summary>
    /// The id of a control token's text (<c>IsToken</c>), or the text's tokens as a continuation when the vocabulary
    /// lacks it.
    /// </summary>
    public (int[] Ids, bool IsToken) Special(string text)
    {
        lock (_lock)
        {
            if (_specialIds.TryGetValue(text, out var cached))
                return cached;
        }
        var ids = _tokenizer.Encode(text, addBos: false, parseSpecial: true);
        (int[] Ids, bool IsToken) result;
        if (ids.Length == 1 && _tokenizer.TypeOf(ids[0]) is TokenType.Control or TokenType.UserDefined)
            result = (ids, true);
        else if (text == LlamaEos && _tokenizer.EosId >= 0)
            result = ([_tokenizer.EosId], true);
        else if (text == LlamaBos && _tokenizer.BosId >= 0)
            result = ([_tokenizer.BosId], true);
        else
            result = (Plain(text, continuesText: true), false);
        lock (_lock)
            _specialIds[text] = result;
        return result;
    }
}
