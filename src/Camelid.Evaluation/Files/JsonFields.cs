using System.Text.Json;

namespace Camelid.Evaluation.Files;

/// <summary>Typed access to the fields of one JSON record; a missing or mistyped field is a <see cref="FormatException"/> naming it.</summary>
static class JsonFields
{
    public static string String(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException(Missing(record, name, "a string"));

    public static string? OptionalString(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static double Number(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new FormatException(Missing(record, name, "a number"));

    public static double OptionalNumber(JsonElement record, string name, double fallback) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : fallback;

    public static int Integer(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n)
            ? n
            : throw new FormatException(Missing(record, name, "an integer"));

    public static IReadOnlyList<string> Strings(JsonElement record, string name)
    {
        if (!record.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
            throw new FormatException(Missing(record, name, "an array of strings"));
        var list = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new FormatException($"\"{name}\" must hold only strings"));
        return list;
    }

    static string Missing(JsonElement record, string name, string what) =>
        record.TryGetProperty(name, out var value) ? $"\"{name}\" must be {what}, not {value.ValueKind}" : $"no \"{name}\" field";

    /// <summary>Writes a number as an integer when it is whole, as Python's json does for FastChat's int scores.</summary>
    public static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (value == Math.Floor(value) && Math.Abs(value) < 1e15)
            json.WriteNumber(name, (long)value);
        else
            json.WriteNumber(name, value);
    }

    public static double UnixSeconds(DateTimeOffset time) => Math.Round(time.ToUnixTimeMilliseconds() / 1000.0, 3);
}
