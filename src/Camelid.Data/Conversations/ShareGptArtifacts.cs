using System.Text.RegularExpressions;

namespace Camelid.Data.Conversations;

/// <summary>
/// Removes the ChatGPT page furniture that ShareGPT's scraper captured with the text, as FastChat's
/// clean_sharegpt.py does after markdownify (its regexes, kept in meaning):
/// <list type="bullet">
/// <item>"```pythonCopy code…```" (a code header flattened into the fence) → "```python\n…\n```";</item>
/// <item>"```Copy code```" empty fences → removed;</item>
/// <item>a "2 / 2" regeneration counter at the very start of a turn → removed. The scraper glued it to the text
///   ("2 / 2Write a poem") or put it on a line of its own, so it is removed only when a letter or a line break
///   follows at once and the first number is at most the second: "3 / 4 cup of flour" survives;</item>
/// <item>"Copy123 chars / 45 words" counters → removed.</item>
/// </list>
/// Runs on every turn, HTML or not: dumps that were already flattened to text still carry these.
/// </summary>
public static partial class ShareGptArtifacts
{
    public static string Remove(string text)
    {
        if (text.Contains("Copy", StringComparison.Ordinal))
        {
            text = EmptyCopyFence().Replace(text, ""); // first, or the header rule would turn it into an empty block
            text = CodeHeader().Replace(text, "```$1\n$2\n```");
            text = CopyCounter().Replace(text, "");
        }
        var counter = RegenerationCounter().Match(text);
        if (counter.Success && int.TryParse(counter.Groups[1].Value, out int shown) && int.TryParse(counter.Groups[2].Value, out int total)
            && shown >= 1 && shown <= total)
            text = text[counter.Length..];
        return text.Trim();
    }

    // FastChat: "```\s*(.*?)(?:Copy code)+(.+?)\s*?```", DOTALL. The language part is kept on one line here so a
    // fence cannot swallow text up to a "Copy code" in a later block.
    [GeneratedRegex(@"```[ \t]*([^\n`]*?)(?:Copy code)+\s*(.+?)\s*?```", RegexOptions.Singleline)]
    private static partial Regex CodeHeader();

    [GeneratedRegex(@"```([^\n`]*)Copy code\s*```")]
    private static partial Regex EmptyCopyFence();

    [GeneratedRegex(@"Copy\d+ chars / \d+ words")]
    private static partial Regex CopyCounter();

    [GeneratedRegex(@"^\s*(\d+) / (\d+)(?=[^\s\d]|\r?\n|$)")]
    private static partial Regex RegenerationCounter();
}
