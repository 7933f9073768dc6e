using System.Text.Json;
using Camelid.Evaluation.Files;

namespace Camelid.Evaluation.Questions;

/// <summary>
/// Reads benchmark questions, one JSON object per line, in either of FastChat's formats:
/// <list type="bullet">
/// <item>llm_judge (MT-bench, Vicuna-80 today): <c>{"question_id", "category", "turns": [..], "reference"?: [..]}</c>;</item>
/// <item>the 2023 Vicuna eval (<c>fastchat/eval/table/question.jsonl</c>): <c>{"question_id", "text", "category"}</c>, one turn.</item>
/// </list>
/// The format is decided per line, by which of <c>turns</c> and <c>text</c> is present.
/// </summary>
public static class QuestionFile
{
    public static IReadOnlyList<Question> Load(string path)
    {
        var questions = JsonLines.Read(path, Parse, allowTornTail: false).Records;
        if (questions.Count == 0)
            throw new EvaluationFormatException($"{path} holds no questions");
        var seen = new HashSet<QuestionId>();
        foreach (var question in questions)
            if (!seen.Add(question.Id))
                throw new EvaluationFormatException($"{path}: question_id {question.Id} appears more than once");
        return questions;
    }

    public static Question Parse(JsonElement record)
    {
        var id = QuestionId.Read(record);
        string category = JsonFields.OptionalString(record, "category") ?? "general";
        IReadOnlyList<string> turns;
        if (record.TryGetProperty("turns", out _))
            turns = JsonFields.Strings(record, "turns");
        else if (record.TryGetProperty("text", out _))
            turns = [JsonFields.String(record, "text")];
        else
            throw new FormatException("a question needs \"turns\" (FastChat llm_judge format) or \"text\" (2023 Vicuna format)");
        if (turns.Count == 0)
            throw new FormatException($"question {id} has no turns");
        IReadOnlyList<string>? reference = record.TryGetProperty("reference", out var r) && r.ValueKind == JsonValueKind.Array
            ? JsonFields.Strings(record, "reference")
            : null;
        return new Question(id, category, turns, reference is { Count: > 0 } ? reference : null);
    }

    /// <summary>
    /// Adds reference answers from a file in model-answer format (FastChat's <c>reference_answer/gpt-4.jsonl</c>):
    /// each answer's first choice becomes the reference of the question with the same id. References already in
    /// the question file are kept unless the file has one for that question.
    /// </summary>
    public static IReadOnlyList<Question> WithReferences(IReadOnlyList<Question> questions, string referencePath)
    {
        var references = Answering.ModelAnswerFile.ByQuestion(Answering.ModelAnswerFile.Load(referencePath).Records);
        return questions.Select(q => references.TryGetValue(q.Id, out var answer) ? q with { Reference = answer.Turns } : q).ToList();
    }
}
