using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.Evaluation.Judging;

/// <summary>
/// Fills judge prompt templates the way Python's <c>str.format</c> fills FastChat's: <c>{name}</c> is replaced by
/// its value, <c>{{</c> and <c>}}</c> are literal braces. The names a judge prompt may use, for the judged
/// turn k:
/// <list type="bullet">
/// <item><c>question</c>, <c>answer</c>, <c>answer_a</c>, <c>answer_b</c>, <c>ref_answer</c>: turn k's texts;</item>
/// <item><c>question_i</c>, <c>answer_i</c>, <c>answer_a_i</c>, <c>answer_b_i</c>, <c>ref_answer_i</c> for i = 1..k (FastChat's names);</item>
/// <item><c>conversation</c>, <c>conversation_a</c>, <c>conversation_b</c>: turns 1..k as "### User:" / "### Assistant:" blocks; <c>turn</c>: k.</item>
/// </list>
/// </summary>
public static partial class PromptTemplate
{
    [GeneratedRegex(@"^(question|answer|answer_a|answer_b|ref_answer|conversation|conversation_a|conversation_b|turn|(question|answer|answer_a|answer_b|ref_answer)_[1-9][0-9]?)$")]
    private static partial Regex KnownName();

    /// <summary>The placeholder names in <paramref name="template"/>; throws <see cref="FormatException"/> on an unbalanced brace.</summary>
    public static IReadOnlySet<string> Placeholders(string template)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        Walk(template, literal: null, name => { names.Add(name); return ""; });
        return names;
    }

    /// <summary>Checks every placeholder is one Camelid can fill; the message names the prompt and the unknown name.</summary>
    public static void Validate(string promptName, string template)
    {
        foreach (string name in Placeholders(template))
            if (!KnownName().IsMatch(name))
                throw new FormatException($"judge prompt '{promptName}' uses {{{name}}}, which Camelid cannot fill " +
                                          "(known: question, answer, answer_a, answer_b, ref_answer, their _1, _2 … forms, conversation, conversation_a, conversation_b, turn)");
    }

    public static string Format(string template, IReadOnlyDictionary<string, string> values) =>
        Walk(template, new StringBuilder(template.Length * 2), name => values.TryGetValue(name, out string? value)
            ? value
            : throw new FormatException($"the judge prompt needs {{{name}}}, which this question does not have"));

    static string Walk(string template, StringBuilder? literal, Func<string, string> fill)
    {
        int i = 0;
        while (i < template.Length)
        {
            char c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{')
            {
                literal?.Append('{');
                i += 2;
            }
            else if (c == '}' && i + 1 < template.Length && template[i + 1] == '}')
            {
                literal?.Append('}');
                i += 2;
            }
            else if (c == '{')
            {
                int close = template.IndexOf('}', i + 1);
                if (close < 0)
                    throw new FormatException($"unclosed '{{' at character {i} of a judge prompt template");
                string value = fill(template[(i + 1)..close]);
                literal?.Append(value);
                i = close + 1;
            }
            else if (c == '}')
                throw new FormatException($"single '}}' at character {i} of a judge prompt template (write '}}}}' for a literal brace)");
            else
            {
                literal?.Append(c);
                i++;
            }
        }
        return literal?.ToString() ?? "";
    }
}
