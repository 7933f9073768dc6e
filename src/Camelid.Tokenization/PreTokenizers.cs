using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.Tokenization;

/// <summary>
/// The split regexes byte-level BPE tokenizers apply before merging (HF tokenizers' Split/ByteLevel pre-tokenizers,
/// llama.cpp's llm_tokenizer_bpe), chosen by GGUF <c>tokenizer.ggml.pre</c>. BPE merges never cross the pieces.
/// </summary>
static partial class PreTokenizers
{
    /// <summary>GPT-2 (openai/gpt-2 encoder.py, HF ByteLevel use_regex).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>LLaMA-3 (tiktoken cl100k-style; the Split pattern in Meta-Llama-3 tokenizer.json).</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Gpt2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2();

    [GeneratedRegex(Llama3Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Llama3();

    static readonly string[] Gpt2Names = ["default", "gpt-2", "gpt2"];
    static readonly string[] Llama3Names = ["llama-bpe", "llama3", "llama-v3", "smaug-bpe"];

    public static bool IsLlama3(string? pre) => pre != null && Llama3Names.Contains(pre);

    /// <summary>The regex for a GGUF pre-tokenizer name; null or "default" means GPT-2's.</summary>
    public static Regex ForName(string? pre)
    {
        if (pre == null || Gpt2Names.Contains(pre))
            return Gpt2();
        if (IsLlama3(pre))
            return Llama3();
        throw new TokenizerException(
            $"byte-level BPE pre-tokenizer '{pre}' is not supported; supported: {string.Join(", ", Gpt2Names.Concat(Llama3Names))}");
    }

    /// <summary>The GGUF pre-tokenizer name of a split regex found in a tokenizer.json, or null if it is not one we know.</summary>
    public static string? NameOfPattern(string pattern) =>
        pattern == Gpt2Pattern ? "gpt-2" : pattern == Llama3Pattern ? "llama-bpe" : null;

    /// <summary>
    /// Pieces (start, length) of <paramref name="text"/>, in order, covering it completely (every alternative of
    /// both patterns ends with \s+ or a catch-all, so nothing is skipped).
    /// .NET regexes see UTF-16 code units, so a character outside the BMP would look like two surrogates that are
    /// neither letters nor digits; the Python/Rust engines the patterns come from see code points. Such text is
    /// matched on a stand-in string with one BMP character of the same class per code point.
    /// </summary>
    public static List<(int Start, int Length)> Split(Regex regex, ReadOnlySpan<char> text)
    {
        var pieces = new List<(int, int)>();
        if (!text.ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            foreach (var m in regex.EnumerateMatches(text))
                pieces.Add((m.Index, m.Length));
            return pieces;
        }
        var standIn = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1); // offsets[k] = index in text of stand-in character k
        for (int i = 0; i < text.Length;)
        {
            offsets.Add(i);
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out int used) == System.Buffers.OperationStatus.Done && used == 2)
                standIn.Append(StandIn(Rune.GetUnicodeCategory(rune)));
            else if (char.IsSurrogate(text[i]))
                standIn.Append(OtherSymbol); // a lone surrogate: UTF-8 turns it into U+FFFD, a symbol
            else
                standIn.Append(text[i]);
            i += used > 0 ? used : 1;
        }
        offsets.Add(text.Length);
        foreach (var m in regex.EnumerateMatches(standIn.ToString()))
            pieces.Add((offsets[m.Index], offsets[m.Index + m.Length] - offsets[m.Index]));
        return pieces;
    }

    const char OtherSymbol = '\u00A6'; // BROKEN BAR: not a letter, digit, space, quote or newline

    // Outside the BMP there are no spaces or newlines, so letter / number / anything else is all the patterns see.
    static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => '\u4E00', // a CJK ideograph (Lo)
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => '0',
        _ => OtherSymbol,
    };
}
