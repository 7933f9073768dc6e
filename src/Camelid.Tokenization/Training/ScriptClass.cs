using System.Globalization;
using System.Text;

namespace Camelid.Tokenization.Training;

/// <summary>
/// A coarse stand-in for the Unicode Script property, which .NET does not expose. sentencepiece's trainer
/// (trainer_interface.cc IsValidSentencePiece, split_by_unicode_script and split_by_number on by default) never
/// merges characters of different scripts into one piece, and counts Hiragana/Katakana as Han. Here: punctuation,
/// symbols, separators and controls are Common; digits are Number; combining marks are Inherited; letters take the
/// script of their block from a table of the major scripts, and any other letter the 128-code-point block it is in.
/// </summary>
static class ScriptClass
{
    public const int Common = 0;
    public const int Number = 1;
    public const int Inherited = 2;
    const int Latin = 3, Greek = 4, Cyrillic = 5, Armenian = 6, Hebrew = 7, Arabic = 8, Thai = 9, Hangul = 10, Han = 11;
    const int FirstBlockClass = 16;

    static readonly (int First, int Last, int Script)[] LetterRanges =
    [
        (0x0000, 0x02AF, Latin), (0x1D00, 0x1DBF, Latin), (0x1E00, 0x1EFF, Latin), (0x2C60, 0x2C7F, Latin),
        (0xA720, 0xA7FF, Latin), (0xFF21, 0xFF5A, Latin),
        (0x0370, 0x03FF, Greek), (0x1F00, 0x1FFF, Greek),
        (0x0400, 0x052F, Cyrillic), (0x2DE0, 0x2DFF, Cyrillic), (0xA640, 0xA69F, Cyrillic), (0x1C80, 0x1C8F, Cyrillic),
        (0x0530, 0x058F, Armenian),
        (0x0590, 0x05FF, Hebrew),
        (0x0600, 0x06FF, Arabic), (0x0750, 0x077F, Arabic), (0x08A0, 0x08FF, Arabic), (0xFB50, 0xFDFF, Arabic), (0xFE70, 0xFEFF, Arabic),
        (0x0E00, 0x0E7F, Thai),
        (0x1100, 0x11FF, Hangul), (0x3130, 0x318F, Hangul), (0xA960, 0xA97F, Hangul), (0xAC00, 0xD7FF, Hangul), (0xFFA0, 0xFFDC, Hangul),
        (0x3005, 0x3007, Han), (0x3021, 0x3029, Han), (0x3040, 0x30FF, Han), (0x31F0, 0x31FF, Han), (0x3400, 0x4DBF, Han),
        (0x4E00, 0x9FFF, Han), (0xF900, 0xFAFF, Han), (0xFF66, 0xFF9F, Han), (0x20000, 0x3FFFF, Han),
    ];

    public static int Of(Rune rune)
    {
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber:
                return Number;
            case UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark:
                return Inherited;
            case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter:
                int cp = rune.Value;
                if (cp == 0x30FC) // the Katakana long vowel mark is a ModifierLetter of script Common, but sentencepiece counts it as Han
                    return Han;
                foreach (var (first, last, script) in LetterRanges)
                    if (cp >= first && cp <= last)
                        return script;
                return FirstBlockClass + (cp >> 7);
            default:
                return Common;
        }
    }
}
