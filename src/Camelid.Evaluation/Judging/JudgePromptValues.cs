using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Judging;

/// <summary>The values for a judge prompt's placeholders when turn k of a question is judged (names in <see cref="PromptTemplate"/>).</summary>
public static class JudgePromptValues
{
    public static Dictionary<string, string> Single(Question question, IReadOnlyList<string> answer, int turn)
    {
        var values = Common(question, turn);
        for (int i = 1; i <= turn; i++)
            values[$"answer_{i}"] = answer[i - 1];
        values["answer"] = answer[turn - 1];
        values["conversation"] = Conversation(question, answer, turn);
        return values;
    }

    public static Dictionary<string, string> Pair(Question question, IReadOnlyList<string> answerA, IReadOnlyList<string> answerB, int turn)
    {
        var values = Common(question, turn);
        for (int i = 1; i <= turn; i++)
        {
            values[$"answer_a_{i}"] = answerA[i - 1];
            values[$"answer_b_{i}"] = answerB[i - 1];
        }
        values["answer_a"] = answerA[turn - 1];
        values["answer_b"] = answerB[turn - 1];
        values["conversation_a"] = Conversation(question, answerA, turn);
        values["conversation_b"] = Conversation(question, answerB, turn);
        return values;
    }

    static Dictionary<string, string> Common(Question question, int turn)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["turn"] = turn.ToString(), ["question"] = question.Turns[turn - 1] };
        for (int i = 1; i <= turn; i++)
        {
            values[$"question_{i}"] = question.Turns[i - 1];
            if (question.Reference != null && i <= question.Reference.Count)
                values[$"ref_answer_{i}"] = question.Reference[i - 1];
        }
        if (question.Reference != null && turn <= question.Reference.Count)
            values["ref_answer"] = question.Reference[turn - 1];
        return values;
    }

    /// <summary>Turns 1..k as "### User:" / "### Assistant:" blocks.</summary>
    static string Conversation(Question question, IReadOnlyList<string> answer, int turn) =>
        string.Join("\n\n", Enumerable.Range(0, turn).Select(i => $"### User:\n{question.Turns[i]}\n\n### Assistant:\n{answer[i]}"));
}
