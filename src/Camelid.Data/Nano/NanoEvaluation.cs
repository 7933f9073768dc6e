using System.Globalization;
using System.Text;

namespace Camelid.Data.Nano;

/// <summary>Exact-match accuracy on one skill's held-out prompts.</summary>
public sealed record NanoSkillScore(NanoSkill Skill, int Correct, int Total)
{
    /// <summary>Correct / Total, or 0 when the skill had no prompts.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}

/// <summary>A held-out prompt answered wrongly: what was expected and what came back.</summary>
public sealed record NanoMiss(NanoExample Example, string Answer);

/// <summary>Per-skill and overall exact-match accuracy, and every miss (for reading what went wrong).</summary>
public sealed record NanoScore(IReadOnlyList<NanoSkillScore> Skills, IReadOnlyList<NanoMiss> Misses)
{
    public int Correct => Skills.Sum(s => s.Correct);
    public int Total => Skills.Sum(s => s.Total);

    /// <summary>Over all prompts (so a skill weighs by its number of prompts).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    public NanoSkillScore this[NanoSkill skill] => Skills.First(s => s.Skill == skill);

    /// <summary>A fixed-width table, one row per skill and a total row, e.g. <c>arithmetic   45/50   90.0%</c>.</summary>
    public string Format()
    {
        List<(string Name, int Correct, int Total, double Accuracy)> rows =
            [.. Skills.Select(s => (NanoSkills.Name(s.Skill), s.Correct, s.Total, s.Accuracy)), ("all", Correct, Total, Accuracy)];
        int nameWidth = Math.Max("skill".Length, rows.Max(r => r.Name.Length));
        int countWidth = Math.Max("correct".Length, rows.Max(r => $"{r.Correct}/{r.Total}".Length));
        var text = new StringBuilder();
        text.Append("skill".PadRight(nameWidth)).Append("  ").Append("correct".PadLeft(countWidth)).Append("  accuracy\n");
        foreach (var (name, correct, total, accuracy) in rows)
            text.Append(name.PadRight(nameWidth)).Append("  ").Append($"{correct}/{total}".PadLeft(countWidth)).Append("  ")
                .Append((accuracy * 100).ToString("0.0", CultureInfo.InvariantCulture).PadLeft("accuracy".Length - 1)).Append("%\n");
        return text.ToString();
    }

    public override string ToString() => Format();
}

/// <summary>Scores a model on held-out examples by exact match.</summary>
public static class NanoEvaluation
{
    /// <summary>
    /// Asks <paramref name="answer"/> for each example's prompt and compares its reply with the expected answer.
    /// The only normalisation is trimming leading and trailing whitespace of both (a reply that ends in a newline
    /// or starts with a space is the same answer); case, punctuation and inner spacing must match exactly, since
    /// they are part of what several skills are asked for (upper/lower case, "Sure:" prefixes, list separators).
    /// Every skill appears in the result, with 0/0 when no example had it.
    /// </summary>
    public static NanoScore Score(IEnumerable<NanoExample> heldOut, Func<IReadOnlyList<(string Role, string Content)>, string> answer)
    {
        var correct = new Dictionary<NanoSkill, int>();
        var total = new Dictionary<NanoSkill, int>();
        var misses = new List<NanoMiss>();
        foreach (var example in heldOut)
        {
            string reply = answer(example.Prompt) ?? "";
            total[example.Skill] = total.GetValueOrDefault(example.Skill) + 1;
            if (IsMatch(reply, example.ExpectedAnswer))
                correct[example.Skill] = correct.GetValueOrDefault(example.Skill) + 1;
            else
                misses.Add(new NanoMiss(example, reply));
        }
        return new NanoScore([.. NanoInstructions.Skills.Select(s => new NanoSkillScore(s, correct.GetValueOrDefault(s), total.GetValueOrDefault(s)))], misses);
    }

    public static bool IsMatch(string reply, string expected) => string.Equals(reply.Trim(), expected.Trim(), StringComparison.Ordinal);
}
