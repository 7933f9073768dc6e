using System.Text.RegularExpressions;

namespace Camelid.Data.Instructions;

/// <summary>
/// Reads the numbered "N. Instruction: / N. Input: / N. Output:" tasks from a teacher's answer to an
/// <see cref="AlpacaPrompt"/>. Alpaca's post_process_gpt3_response split on "###" and kept a piece only when
/// it split into exactly the three labels numbered as expected; chat models vary more, so this reader also
/// accepts: the first task continuing the prompt without its label, or restating it; labels in markdown bold
/// ("**5. Instruction:**", "5. **Output:**"), after "#" or "### "; "5)" numbering; any numbers; no "###"
/// between tasks; CRLF; a missing Input (read as none); "&lt;no input&gt;" spellings; a chat preamble before
/// the first label. Labels must be numbered, so "Output:" lines inside an answer do not split it.
/// When the answer was cut by max_tokens, the last task is dropped as truncated unless a "###" closed it.
/// </summary>
public static partial class AlpacaResponseParser
{
    [GeneratedRegex(@"^[ \t]*(?:#+[ \t]*)?[*_]*[ \t]*(?<num>\d+)[ \t]*[.)][ \t]*[*_]*[ \t]*(?<label>instruction|input|output)[ \t]*[*_]*[ \t]*:[ \t]*(?:[*_]+[ \t]*)?",
                    RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex Label();

    [GeneratedRegex(@"^\s*<\s*no\s*-?\s*input\s*>\s*\.?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex NoInput();

    [GeneratedRegex(@"(?:\s*(?:#{3,}|-{3,}))+\s*$")]
    private static partial Regex TrailingSeparators();

    /// <param name="text">The teacher's answer (what follows the prompt's final "N. Instruction:").</param>
    /// <param name="truncated">The answer stopped at max_tokens (finish_reason "length").</param>
    public static List<ParsedCandidate> Parse(string text, bool truncated)
    {
        text = text.Replace("\r\n", "\n");
        var labels = Label().Matches(text);
        var items = new List<ParsedCandidate>();
        Fields? current = null;

        string leading = Clean(labels.Count > 0 ? text[..labels[0].Index] : text);
        bool firstIsInstruction = labels.Count > 0 && IsLabel(labels[0], "instruction");
        if (leading.Length > 0 && !firstIsInstruction)
            current = new Fields { Instruction = leading }; // the continuation of the prompt's "N. Instruction:"
        // else: nothing, or a chat preamble ("Sure! Here are more tasks:") before the first labelled task

        for (int i = 0; i < labels.Count; i++)
        {
            var label = labels[i];
            int end = i + 1 < labels.Count ? labels[i + 1].Index : text.Length;
            string value = Clean(text[(label.Index + label.Length)..end]);
            string name = label.Groups["label"].Value.ToLowerInvariant();
            if (name == "instruction" || current == null || current.Has(name))
            {
                if (current != null)
                    items.Add(current.ToCandidate());
                current = new Fields();
            }
            current.Set(name, value);
        }
        if (current != null)
            items.Add(current.ToCandidate());

        if (truncated && items.Count > 0 && !ClosedBySeparator(text))
            items[^1] = items[^1] with { Problem = DropReason.Truncated, Detail = "the answer was cut at max_tokens" };
        return items;
    }

    static bool IsLabel(Match m, string name) => m.Groups["label"].Value.Equals(name, StringComparison.OrdinalIgnoreCase);

    static bool ClosedBySeparator(string text) => text.TrimEnd().EndsWith("###", StringComparison.Ordinal);

    /// <summary>A field's text without the "###" separators around it.</summary>
    static string Clean(string value) => TrailingSeparators().Replace(value, "").Trim();

    sealed class Fields
    {
        public string? Instruction, Input, Output;

        public bool Has(string name) => name switch
        {
            "instruction" => Instruction != null,
            "input" => Input != null,
            _ => Output != null,
        };

        public void Set(string name, string value)
        {
            if (name == "instruction") Instruction = value;
            else if (name == "input") Input = value;
            else Output = value;
        }

        public ParsedCandidate ToCandidate()
        {
            string instruction = Instruction ?? "", input = Input ?? "", output = Output ?? "";
            if (NoInput().IsMatch(input))
                input = "";
            if (instruction.Length == 0)
                return new ParsedCandidate(instruction, input, output, DropReason.Unparsable, "no instruction");
            if (Output == null)
                return new ParsedCandidate(instruction, input, output, DropReason.Unparsable, "no output");
            return new ParsedCandidate(instruction, input, output);
        }
    }
}
