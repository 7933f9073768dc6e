using System.Text.Json;
using Camelid.Evaluation.Files;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Judgments;

/// <summary>
/// One pairwise comparison judged in both orders, a line of FastChat's <c>model_judgment/{judge}_pair.jsonl</c>:
/// <c>{"question_id", "model_1", "model_2", "g1_winner", "g2_winner", "judge", "g1_user_prompt", "g1_judgment",
/// "g2_user_prompt", "g2_judgment", "turn", "tstamp"}</c>. Game 1 shows model_1 as assistant A, game 2 shows
/// model_2 as A; both winners are already mapped back to "model_1", "model_2", "tie" or "error".
/// </summary>
public sealed record PairJudgment(QuestionId QuestionId, string Model1, string Model2, string G1Winner, string G2Winner, JudgeId Judge,
                                  string G1UserPrompt, string G1Judgment, string G2UserPrompt, string G2Judgment, int Turn, double Timestamp)
{
    public const string Model1Wins = "model_1", Model2Wins = "model_2", Tie = "tie", Error = "error";

    public bool Failed => G1Winner == Error || G2Winner == Error;

    public static PairJudgment Parse(JsonElement record)
    {
        var judgment = new PairJudgment(
            QuestionId.Read(record), JsonFields.String(record, "model_1"), JsonFields.String(record, "model_2"),
            JsonFields.String(record, "g1_winner"), JsonFields.String(record, "g2_winner"), JudgeId.Read(record),
            JsonFields.OptionalString(record, "g1_user_prompt") ?? "", JsonFields.OptionalString(record, "g1_judgment") ?? "",
            JsonFields.OptionalString(record, "g2_user_prompt") ?? "", JsonFields.OptionalString(record, "g2_judgment") ?? "",
            (int)JsonFields.OptionalNumber(record, "turn", 1), JsonFields.OptionalNumber(record, "tstamp", 0));
        foreach (string winner in (string[])[judgment.G1Winner, judgment.G2Winner])
            if (winner is not (Model1Wins or Model2Wins or Tie or Error))
                throw new FormatException($"winner \"{winner}\" is not one of model_1, model_2, tie, error");
        return judgment;
    }

    public static void Write(Utf8JsonWriter json, PairJudgment j)
    {
        json.WriteStartObject();
        j.QuestionId.Write(json);
        json.WriteString("model_1", j.Model1);
        json.WriteString("model_2", j.Model2);
        json.WriteString("g1_winner", j.G1Winner);
        json.WriteString("g2_winner", j.G2Winner);
        j.Judge.Write(json);
        json.WriteString("g1_user_prompt", j.G1UserPrompt);
        json.WriteString("g1_judgment", j.G1Judgment);
        json.WriteString("g2_user_prompt", j.G2UserPrompt);
        json.WriteString("g2_judgment", j.G2Judgment);
        json.WriteNumber("turn", j.Turn);
        json.WriteNumber("tstamp", j.Timestamp);
        json.WriteEndObject();
    }
}
