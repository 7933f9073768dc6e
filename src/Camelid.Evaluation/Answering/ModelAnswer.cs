using System.Text.Json;
using Camelid.Evaluation.Files;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Answering;

/// <summary>One sampled answer: the assistant's reply to each turn of the question, in order.</summary>
public sealed record AnswerChoice(int Index, IReadOnlyList<string> Turns);

/// <summary>
/// A model's answer to one question, one line of FastChat's <c>model_answer/{model_id}.jsonl</c>:
/// <c>{"question_id", "answer_id", "model_id", "choices": [{"index", "turns"}], "tstamp"}</c>. Judges read the
/// first choice, as FastChat does.
/// </summary>
public sealed record ModelAnswer(QuestionId QuestionId, string AnswerId, string ModelId, IReadOnlyList<AnswerChoice> Choices, double Timestamp)
{
    public IReadOnlyList<string> Turns => Choices[0].Turns;

    public static ModelAnswer Parse(JsonElement record)
    {
        var id = QuestionId.Read(record);
        if (!record.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            throw new FormatException($"answer to question {id} has no \"choices\"");
        var list = new List<AnswerChoice>();
        foreach (var choice in choices.EnumerateArray())
        {
            if (choice.ValueKind != JsonValueKind.Object)
                throw new FormatException($"answer to question {id}: each choice must be an object with \"turns\"");
            list.Add(new AnswerChoice((int)JsonFields.OptionalNumber(choice, "index", list.Count), JsonFields.Strings(choice, "turns")));
        }
        return new ModelAnswer(id, JsonFields.OptionalString(record, "answer_id") ?? "", JsonFields.OptionalString(record, "model_id") ?? "",
                               list, JsonFields.OptionalNumber(record, "tstamp", 0));
    }

    public static void Write(Utf8JsonWriter json, ModelAnswer answer)
    {
        json.WriteStartObject();
        answer.QuestionId.Write(json);
        json.WriteString("answer_id", answer.AnswerId);
        json.WriteString("model_id", answer.ModelId);
        json.WriteStartArray("choices");
        foreach (var choice in answer.Choices)
        {
            json.WriteStartObject();
            json.WriteNumber("index", choice.Index);
            json.WriteStartArray("turns");
            foreach (var turn in choice.Turns)
                json.WriteStringValue(turn);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("tstamp", answer.Timestamp);
        json.WriteEndObject();
    }

    /// <summary>A 22-character random id, like the shortuuid ids FastChat writes.</summary>
    public static string NewAnswerId()
    {
        const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        Span<char> id = stackalloc char[22];
        for (int i = 0; i < id.Length; i++)
            id[i] = Alphabet[Random.Shared.Next(Alphabet.Length)];
        return new string(id);
    }
}
