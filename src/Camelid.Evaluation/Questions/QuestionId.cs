using System.Globalization;
using System.Text.Json;

namespace Camelid.Evaluation.Questions;

/// <summary>
/// A <c>question_id</c> as FastChat writes it: a number in MT-bench and Vicuna-80, a string in some other
/// benchmarks. Kept as it was read so it is written back the same way; numbers sort numerically, before strings.
/// </summary>
public readonly record struct QuestionId(string Text, bool IsNumber) : IComparable<QuestionId>
{
    public static QuestionId Number(long value) => new(value.ToString(CultureInfo.InvariantCulture), true);

    public static QuestionId Read(JsonElement record)
    {
        if (!record.TryGetProperty("question_id", out var value))
            throw new FormatException("no \"question_id\" field");
        return value.ValueKind switch
        {
            JsonValueKind.Number => new QuestionId(value.GetRawText(), true),
            JsonValueKind.String => new QuestionId(value.GetString()!, false),
            _ => throw new FormatException($"\"question_id\" must be a number or a string, not {value.ValueKind}"),
        };
    }

    public void Write(Utf8JsonWriter json)
    {
        json.WritePropertyName("question_id");
        if (IsNumber)
            json.WriteRawValue(Text);
        else
            json.WriteStringValue(Text);
    }

    public int CompareTo(QuestionId other)
    {
        if (IsNumber != other.IsNumber)
            return IsNumber ? -1 : 1;
        if (IsNumber)
        {
            int byValue = double.Parse(Text, CultureInfo.InvariantCulture).CompareTo(double.Parse(other.Text, CultureInfo.InvariantCulture));
            if (byValue != 0)
                return byValue;
        }
        return string.CompareOrdinal(Text, other.Text);
    }

    public override string ToString() => Text;
}
