using System.Text.Json;
using Camelid.Evaluation.Files;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Judgments;

/// <summary>Who judged: the judge model and the prompt's name, written as FastChat's two-element <c>judge</c> list.</summary>
public readonly record struct JudgeId(string Model, string PromptName)
{
    public static JudgeId Read(JsonElement record)
    {
        if (!record.TryGetProperty("judge", out var judge))
            throw new FormatException("no \"judge\" field");
        if (judge.ValueKind == JsonValueKind.String)
            return new JudgeId(judge.GetString()!, "");
        if (judge.ValueKind == JsonValueKind.Array && judge.GetArrayLength() >= 1 && judge.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            return new JudgeId(judge[0].GetString()!, judge.GetArrayLength() > 1 ? judge[1].GetString()! : "");
        throw new FormatException("\"judge\" must be [judge_model, prompt_name]");
    }

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartArray("judge");
        json.WriteStringValue(Model);
        json.WriteStringValue(PromptName);
        json.WriteEndArray();
    }
}

/// <summary>
/// One single-answer grade, a line of FastChat's <c>model_judgment/{judge}_single.jsonl</c>:
/// <c>{"question_id", "model", "judge", "user_prompt", "judgment", "score", "turn", "tstamp"}</c>.
/// A judgment whose grade could not be read has score -1, as in FastChat.
/// </summary>
public sealed record SingleJudgment(QuestionId QuestionId, string Model, JudgeId Judge, string UserPrompt, string Judgment,
                                    double Score, int Turn, double Timestamp)
{
    public const double FailedScore = -1;

    public bool Failed => Score == FailedScore;

    public static SingleJudgment Parse(JsonElement record) => new(
        QuestionId.Read(record), JsonFields.String(record, "model"), JudgeId.Read(record),
        JsonFields.OptionalString(record, "user_prompt") ?? "", JsonFields.OptionalString(record, "judgment") ?? "",
        JsonFields.Number(record, "score"), (int)JsonFields.OptionalNumber(record, "turn", 1), JsonFields.OptionalNumber(record, "tstamp", 0));

    public static void Write(Utf8JsonWriter json, SingleJudgment j)
    {
        json.WriteStartObject();
        j.QuestionId.Write(json);
        json.WriteString("model", j.Model);
        j.Judge.Write(json);
        json.WriteString("user_prompt", j.UserPrompt);
        json.WriteString("judgment", j.Judgment);
        JsonFields.WriteNumber(json, "score", j.Score);
        json.WriteNumber("turn", j.Turn);
        json.WriteNumber("tstamp", j.Timestamp);
        json.WriteEndObject();
    }
}
