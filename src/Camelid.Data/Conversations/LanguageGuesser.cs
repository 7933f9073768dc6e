using System.Text.RegularExpressions;

namespace Camelid.Data.Conversations;

/// <summary>
/// A small, deterministic language guess for the <c>--lang</c> filter, in place of FastChat's polyglot/cld2
/// (optional_clean.py): no model files, and every rule can be read here.
/// <list type="number">
/// <item>Code is ignored: fenced blocks, inline code and URLs are removed first (answers full of Python would
///   otherwise look English). At most the first 20,000 characters are looked at.</item>
/// <item>Letters are counted per script. Han, kana and Hangul count 3 each, since one of them carries about as
///   much as a whole Latin word. The script with the largest count decides unless it is Latin: kana (any
///   hiragana/katakana beside Han) → "ja", Han → "zh", Hangul → "ko", Cyrillic → "ru" ("uk" when і ї є ґ make up
///   1% of it), Greek → "el", Arabic → "ar" ("fa" when پ چ ژ گ appear), Hebrew → "he", Devanagari → "hi", Thai → "th".</item>
/// <item>Latin text is scored by the share of its words that are among 20 very common words (30 for English, whose
///   short questions need them) of each of en, es, fr, de, pt, it, nl, pl, tr, vi and id; the best language wins
///   when it has at least 2 such words and 5% of all words, else "unknown".</item>
/// </list>
/// Good enough to keep the English (or the Chinese) of a ShareGPT dump; it is not a general detector:
/// languages outside these lists come out as "unknown" or as a close neighbour.
/// </summary>
public static partial class LanguageGuesser
{
    public const string Unknown = "unknown";
    const int MaxChars = 20_000;

    static readonly (string Language, HashSet<string> Words)[] StopWords =
    [
        ("en", ["the", "and", "is", "are", "of", "to", "in", "that", "it", "you", "for", "with", "this", "be", "have", "not", "on", "what", "can", "i",
                "me", "my", "your", "from", "by", "who", "how", "will", "would", "there"]),
        ("es", ["el", "la", "los", "las", "de", "que", "y", "en", "es", "por", "para", "con", "una", "un", "del", "se", "no", "como", "más", "pero"]),
        ("fr", ["le", "la", "les", "des", "et", "est", "une", "un", "que", "pour", "dans", "du", "en", "pas", "vous", "sur", "qui", "au", "avec", "je"]),
        ("de", ["der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu", "den", "mit", "sie", "ich", "es", "auf", "für", "von", "dem", "sich", "auch"]),
        ("pt", ["o", "os", "as", "de", "que", "e", "é", "um", "uma", "não", "para", "com", "do", "da", "em", "no", "na", "se", "mais", "por"]),
        ("it", ["il", "di", "che", "e", "la", "è", "per", "un", "una", "non", "sono", "del", "della", "con", "gli", "le", "in", "si", "mi", "ma"]),
        ("nl", ["de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "zijn", "voor", "met", "je", "ik", "die", "er", "maar", "ook", "wat"]),
        ("pl", ["i", "w", "nie", "na", "się", "z", "jest", "że", "do", "to", "o", "jak", "ale", "co", "dla", "czy", "tak", "są", "od", "po"]),
        ("tr", ["ve", "bir", "bu", "da", "de", "için", "ile", "çok", "ne", "mi", "daha", "gibi", "olan", "var", "ben", "sen", "o", "olarak", "değil", "ama"]),
        ("vi", ["và", "của", "là", "có", "không", "được", "một", "những", "cho", "các", "trong", "với", "người", "này", "để", "đã", "khi", "thì", "tôi", "bạn"]),
        ("id", ["yang", "dan", "di", "ini", "itu", "dengan", "untuk", "tidak", "dari", "dalam", "akan", "pada", "juga", "saya", "ada", "bisa", "atau", "karena", "anda", "kita"]),
    ];

    enum Script { Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Hangul, Kana, Han, Count }

    /// <summary>An ISO 639-1 code ("en", "zh", …) or <see cref="Unknown"/>.</summary>
    public static string Guess(string text)
    {
        text = CodeAndUrls().Replace(text.Length > MaxChars ? text[..MaxChars] : text, " ");
        Span<int> counts = stackalloc int[(int)Script.Count];
        int ukrainian = 0, persian = 0;
        foreach (char c in text)
        {
            if (ScriptOf(c) is not { } script)
                continue;
            counts[(int)script] += script is Script.Han or Script.Kana or Script.Hangul ? 3 : 1;
            if (c is 'і' or 'ї' or 'є' or 'ґ' or 'І' or 'Ї' or 'Є' or 'Ґ') ukrainian++;
            if (c is 'پ' or 'چ' or 'ژ' or 'گ') persian++;
        }
        int best = 0;
        for (int s = 1; s < counts.Length; s++)
            if (counts[s] > counts[best]) best = s;
        if (counts[best] == 0)
            return Unknown;
        return (Script)best switch
        {
            Script.Latin => GuessLatin(text),
            Script.Han or Script.Kana => counts[(int)Script.Kana] > 0 ? "ja" : "zh",
            Script.Hangul => "ko",
            Script.Cyrillic => ukrainian * 100 >= counts[(int)Script.Cyrillic] ? "uk" : "ru",
            Script.Greek => "el",
            Script.Arabic => persian > 0 ? "fa" : "ar",
            Script.Hebrew => "he",
            Script.Devanagari => "hi",
            Script.Thai => "th",
            _ => Unknown,
        };
    }

    static string GuessLatin(string text)
    {
        var words = Words().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToList();
        string best = Unknown;
        int bestHits = 0;
        foreach (var (language, stopWords) in StopWords)
        {
            int hits = words.Count(stopWords.Contains);
            if (hits > bestHits)
                (best, bestHits) = (language, hits);
        }
        return bestHits >= 2 && bestHits * 20 >= words.Count ? best : Unknown;
    }

    static Script? ScriptOf(char c) => c switch
    {
        >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '\u00C0' and <= '\u024F' and not '\u00D7' and not '\u00F7'
            or >= '\u1E00' and <= '\u1EFF' => Script.Latin,
        >= '\u0400' and <= '\u04FF' => Script.Cyrillic,
        >= '\u0370' and <= '\u03FF' => Script.Greek,
        >= '\u0600' and <= '\u06FF' => Script.Arabic,
        >= '\u0590' and <= '\u05FF' => Script.Hebrew,
        >= '\u0900' and <= '\u097F' => Script.Devanagari,
        >= '\u0E00' and <= '\u0E7F' => Script.Thai,
        >= '\uAC00' and <= '\uD7AF' or >= '\u1100' and <= '\u11FF' => Script.Hangul,
        >= '\u3040' and <= '\u30FF' => Script.Kana,
        >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' => Script.Han,
        _ => null,
    };

    [GeneratedRegex(@"```.*?(```|$)|`[^`\n]*`|https?://\S+", RegexOptions.Singleline)]
    private static partial Regex CodeAndUrls();

    [GeneratedRegex(@"\p{L}+")]
    private static partial Regex Words();
}
