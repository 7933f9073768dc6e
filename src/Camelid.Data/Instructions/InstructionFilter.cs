using System.Text.RegularExpressions;

namespace Camelid.Data.Instructions;

/// <summary>A filter's verdict on an instruction: why it is dropped, and a detail (the forbidden word, the word count).</summary>
public readonly record struct FilterVerdict(string Reason, string? Detail);

/// <summary>
/// The heuristic filters both Self-Instruct (bootstrap_instructions.py) and Alpaca (generate_instruction.py)
/// apply to every generated instruction before the similarity check, in their order:
/// more than 3 and at most 150 whitespace-separated words; none of the forbidden words (whole words, any case:
/// tasks a text model cannot do); not starting with "Write a program" (the teacher tends to append it to
/// anything, and it leaves unclear whether to write code or give the result); not starting with ASCII
/// punctuation; not starting with a non-ASCII character. Self-Instruct's list lacked the last five words of
/// Alpaca's; Camelid uses Alpaca's list in both modes.
/// </summary>
public static partial class InstructionFilter
{
    public const int MinWordsExclusive = 3;
    public const int MaxWords = 150;

    public static readonly IReadOnlyList<string> ForbiddenWords =
    [
        "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
        "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
    ];

    const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"; // Python's string.punctuation

    [GeneratedRegex(@"\b(image|images|graph|graphs|picture|pictures|file|files|map|maps|draw|plot|go to|video|audio|music|flowchart|diagram)\b",
                    RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ForbiddenWordPattern();

    /// <summary>Null when the instruction passes every filter, else the first one it fails.</summary>
    public static FilterVerdict? Check(string instruction)
    {
        int words = CountWords(instruction);
        if (words <= MinWordsExclusive)
            return new FilterVerdict(DropReason.TooShort, $"{words} words");
        if (words > MaxWords)
            return new FilterVerdict(DropReason.TooLong, $"{words} words");
        var forbidden = ForbiddenWordPattern().Match(instruction);
        if (forbidden.Success)
            return new FilterVerdict(DropReason.ForbiddenWord, forbidden.Value.ToLowerInvariant());
        if (instruction.StartsWith("Write a program", StringComparison.Ordinal))
            return new FilterVerdict(DropReason.WriteAProgram, null);
        if (AsciiPunctuation.Contains(instruction[0]))
            return new FilterVerdict(DropReason.LeadingPunctuation, instruction[..1]);
        if (instruction[0] > 127)
            return new FilterVerdict(DropReason.NonAsciiStart, instruction[..(char.IsHighSurrogate(instruction[0]) && instruction.Length > 1 ? 2 : 1)]);
        return null;
    }

    /// <summary>Python's <c>len(s.split())</c>: runs of whitespace separate words.</summary>
    public static int CountWords(string text)
    {
        int count = 0;
        bool inWord = false;
        foreach (char c in text)
        {
            bool space = char.IsWhiteSpace(c);
            if (!space && !inWord)
                count++;
            inWord = !space;
        }
        return count;
    }
}
