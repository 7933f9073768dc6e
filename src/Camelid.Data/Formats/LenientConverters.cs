using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Camelid.Data.Formats;

/// <summary>
/// Reads a ShareGPT conversation without failing on the oddities of real dumps: numeric ids, turns whose
/// "value" is null or not a string (read as ""), a missing "conversations" (read as no turns). A record that
/// is not a JSON object at all is still an error, because then the file is not ShareGPT.
/// </summary>
public sealed class ShareGptConversationConverter : JsonConverter<ShareGptConversation>
{
    public override ShareGptConversation Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new JsonException($"expected a ShareGPT conversation object, found {root.ValueKind}");
        string id = root.TryGetProperty("id", out var idElement) ? Scalar(idElement) : "";
        var turns = new List<ShareGptTurn>();
        if (root.TryGetProperty("conversations", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var turn in list.EnumerateArray())
                turns.Add(turn.ValueKind == JsonValueKind.Object
                    ? new ShareGptTurn(StringOrEmpty(turn, "from"), StringOrEmpty(turn, "value"))
                    : new ShareGptTurn("", ""));
        return new ShareGptConversation(id, turns);
    }

    public override void Write(Utf8JsonWriter writer, ShareGptConversation value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("id", value.Id);
        writer.WriteStartArray("conversations");
        foreach (var turn in value.Turns)
        {
            writer.WriteStartObject();
            writer.WriteString("from", turn.From);
            writer.WriteString("value", turn.Value);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    static string StringOrEmpty(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "";

    static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetRawText(),
        _ => "",
    };
}

/// <summary>Reads an OpenAI message whose content is a string or an array of text parts (joined with "\n").</summary>
public sealed class OpenAiMessageConverter : JsonConverter<OpenAiMessage>
{
    public override OpenAiMessage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new JsonException($"expected a message object, found {root.ValueKind}");
        string role = root.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
        return new OpenAiMessage(role, root.TryGetProperty("content", out var c) ? ContentText(c) : "");
    }

    public override void Write(Utf8JsonWriter writer, OpenAiMessage value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("role", value.Role);
        writer.WriteString("content", value.Content);
        writer.WriteEndObject();
    }

    static string ContentText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
            return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array)
            return "";
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                text.Append(text.Length > 0 ? "\n" : "").Append(t.GetString());
        return text.ToString();
    }
}
