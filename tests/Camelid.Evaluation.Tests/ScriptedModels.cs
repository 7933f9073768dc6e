using System.Text.RegularExpressions;

namespace Camelid.Evaluation.Tests;

/// <summary>
/// What the scripted server says. Candidates ("model-good", "model-mid", "model-weak") answer with their quality
/// for the question written into the text ("quality=N", a pure function of model and user message), and say which
/// turn of the conversation they are in. The judge ("judge") reads those qualities back: a single grade is the
/// judged reply's quality; a pairwise verdict prefers the higher one, and when both are equal it shows position
/// bias (always "[[A]]"), so the two orders disagree. Some questions get malformed judgments on purpose
/// (<see cref="Malformed"/>), the kinds real judges produce. Replies that carry no quality mark (a real model's,
/// behind <c>camelid serve</c>) are graded <see cref="UnmarkedGrade"/> of the text the judge was shown.
/// </summary>
public static partial class ScriptedModels
{
    public const string Judge = "judge";

    [GeneratedRegex(@"quality=(\d+)")]
    private static partial Regex QualityMark();

    public static int Quality(string model, string userMessage)
    {
        uint h = Fnv1a(userMessage);
        return model switch
        {
            "model-good" => 6 + (int)(h % 5),  // 6..10
            "model-mid" => 5 + (int)(h % 3),   // 5..7
            _ => 2 + (int)(h % 4),             // 2..5
        };
    }

    /// <summary>The judge's grade, 1..10, for a judge prompt (or one side of a pairwise prompt) without a quality mark.</summary>
    public static int UnmarkedGrade(string judgePrompt) => 1 + (int)(Fnv1a(judgePrompt) % 10);

    static uint Fnv1a(string text)
    {
        uint h = 2166136261;
        foreach (char c in text)
            h = (h ^ c) * 16777619;
        return h;
    }

    /// <summary>How the judge misbehaves for a question (by its first turn's text), or null when it answers properly.</summary>
    public static string? Malformed(string questionText) =>
        questionText.Contains("quantum") ? "no-verdict"
        : questionText.Contains("stress") ? "contradictory"
        : questionText.Contains("Python and JavaScript") ? "out-of-range"
        : null;

    public static string Reply(ChatRequest request) => request.Model == Judge ? JudgeReply(request) : CandidateReply(request);

    static string CandidateReply(ChatRequest request)
    {
        int turn = request.Messages.Count(m => m.Role == "user");
        int earlier = request.Messages.Count(m => m.Role == "assistant");
        return $"{request.Model} reply to turn {turn} (after {earlier} earlier replies): quality={Quality(request.Model, request.LastUser)}.\n" +
               "Here is a thoughtful answer with a few points.";
    }

    static string JudgeReply(ChatRequest request)
    {
        string prompt = request.LastUser;
        string? malformed = ScriptedQuestionText(prompt) is { } text ? Malformed(text) : null;
        int bIndex = new[] { "<reply_b>", "<conversation_b>", "[Assistant B]" }.Select(m => prompt.IndexOf(m, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (bIndex < 0)
        {
            int grade = Grade(prompt);
            return malformed switch
            {
                "no-verdict" => $"The reply is decent and mostly accurate. Rating: {grade}/10",
                "contradictory" => $"At first glance [[4]], but on reflection the reply deserves more: [[{(grade == 4 ? 9 : grade)}]]",
                "out-of-range" => "An exceptional reply, beyond the scale: [[11]]",
                _ => $"The reply is judged on correctness and helpfulness.\nRating: [[{grade}]]",
            };
        }
        int a = Grade(prompt[..bIndex]), b = Grade(prompt[bIndex..]);
        return malformed switch
        {
            "no-verdict" => "Both replies have merits; it is hard to say.",
            "contradictory" => "Assistant A is clearer: [[A]]. On second thought, B is more complete: [[B]]",
            _ => $"Comparing the two replies.\n{(a > b ? "[[A]]" : a < b ? "[[B]]" : "[[A]]")}",
        };
    }

    static int Grade(string text) => QualityMark().Matches(text) is { Count: > 0 } marks ? int.Parse(marks[^1].Groups[1].Value) : UnmarkedGrade(text);

    /// <summary>The question's first turn as it appears in a judge prompt (the first line after the request or conversation opener).</summary>
    static string? ScriptedQuestionText(string prompt)
    {
        foreach (string opener in (string[])["<request>\n", "### User:\n", "[Question]\n"])
        {
            int start = prompt.IndexOf(opener, StringComparison.Ordinal);
            if (start >= 0)
            {
                start += opener.Length;
                int end = prompt.IndexOf('\n', start);
                return end < 0 ? prompt[start..] : prompt[start..end];
            }
        }
        return null;
    }
}
