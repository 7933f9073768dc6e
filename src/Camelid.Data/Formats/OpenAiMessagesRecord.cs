using System.Text.Json.Serialization;

namespace Camelid.Data.Formats;

/// <summary>
/// One conversation in OpenAI's chat fine-tuning form:
/// <c>{"messages": [{"role": "system", "content": "..."}, {"role": "user", ...}, {"role": "assistant", ...}]}</c>.
/// Reading accepts "content" as a string or as an array of parts (<c>[{"type": "text", "text": "..."}]</c>,
/// whose text parts are joined); other part types are ignored. A missing "messages" reads as empty.
/// </summary>
public sealed record OpenAiMessagesRecord
{
    public OpenAiMessagesRecord(IReadOnlyList<OpenAiMessage>? messages) => Messages = messages ?? [];

    [JsonPropertyName("messages")] public IReadOnlyList<OpenAiMessage> Messages { get; init; }
}

/// <summary>One message: role "system", "user" or "assistant" (other roles are kept as written).</summary>
[JsonConverter(typeof(OpenAiMessageConverter))]
public sealed record OpenAiMessage(string Role, string Content)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
}
