using System.Text.RegularExpressions;

namespace Camelid.Data.Instructions;

/// <summary>
/// Reading the teacher's answers in Self-Instruct's stages 1 and 2, as its bootstrap_instructions.py and
/// identify_clf_or_not.py / generate_instances.py did, a little more tolerant of chat models.
/// </summary>
public static partial class SelfInstructParsers
{
    [GeneratedRegex(@"\n[ \t]*\d+[ \t]?[.)][ \t]+")]
    private static partial Regex NumberedLine();

    [GeneratedRegex(@"^\s*\d+[ \t]?[.)][ \t]*")]
    private static partial Regex LeadingNumber();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^\W*yes\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Yes();

    /// <summary>
    /// Stage 1: the new instructions in the continuation of "…8. last example\n9.". Split at numbered lines
    /// ("\n10. "), whitespace collapsed, first letter capitalized. Self-Instruct discarded the whole answer when
    /// it was cut by max_tokens: so does this (every item comes back marked truncated). Also accepted: the
    /// first item restating its number ("9. …"), "10)" numbering, and with <paramref name="chat"/> a
    /// preamble line ending in ':' before the first numbered item.
    /// </summary>
    /// <remarks>
    /// Self-Instruct used Python's <c>str.capitalize()</c>, which also lowercases the rest ("Write a Python
    /// script" → "Write a python script"); only the first letter is raised here.
    /// </remarks>
    public static List<ParsedCandidate> Bootstrap(string text, bool truncated, bool chat)
    {
        text = text.Replace("\r\n", "\n");
        var pieces = NumberedLine().Split(text).ToList();
        bool restated = LeadingNumber().IsMatch(pieces[0]);
        pieces[0] = LeadingNumber().Replace(pieces[0], "");
        if (chat && !restated && pieces.Count > 1 && pieces[0].TrimEnd().EndsWith(':'))
            pieces.RemoveAt(0); // "Here are some more tasks:"
        var items = new List<ParsedCandidate>();
        foreach (var piece in pieces)
        {
            string instruction = Whitespace().Replace(piece, " ").Trim();
            if (instruction.Length == 0)
                continue;
            instruction = char.ToUpperInvariant(instruction[0]) + instruction[1..];
            items.Add(truncated
                ? new ParsedCandidate(instruction, "", "", DropReason.Truncated, "the answer was cut at max_tokens, so all of it is dropped")
                : new ParsedCandidate(instruction, "", ""));
        }
        return items;
    }

    /// <summary>Stage 2: the answer to "Is it classification?" (the original accepted exactly "Yes", "yes" or "YES").</summary>
    public static bool IsClassification(string answer) => Yes().IsMatch(answer);
}
