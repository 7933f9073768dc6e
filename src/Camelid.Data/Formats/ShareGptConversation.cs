using System.Text.Json.Serialization;

namespace Camelid.Data.Formats;

/// <summary>
/// One ShareGPT / FastChat conversation:
/// <c>{"id": "identity_0", "conversations": [{"from": "human", "value": "..."}, {"from": "gpt", "value": "..."}]}</c>.
/// Reading is lenient (see <see cref="ShareGptConversationConverter"/>): a numeric id becomes a string, and a
/// missing or non-string "from"/"value" becomes "" so that cleaning can drop the conversation with a reason
/// instead of the whole file failing. Fields other than id and conversations are not kept.
/// </summary>
[JsonConverter(typeof(ShareGptConversationConverter))]
public sealed record ShareGptConversation(string Id, IReadOnlyList<ShareGptTurn> Turns);

/// <summary>One turn. <see cref="From"/> is the role as written in the file ("human", "gpt", "system", "user", …).</summary>
public sealed record ShareGptTurn(string From, string Value)
{
    /// <summary>The role mapped to FastChat's names, or null when the name is unknown.</summary>
    public string? Role => ShareGptRoles.Normalize(From);
}

/// <summary>FastChat's role names and the aliases found in ShareGPT dumps and other chat data.</summary>
public static class ShareGptRoles
{
    public const string Human = "human";
    public const string Gpt = "gpt";
    public const string System = "system";

    /// <summary>
    /// "human"/"user" → human, "gpt"/"assistant"/"chatgpt"/"bard"/"bing"/"model" → gpt, "system" → system;
    /// anything else → null. Case-insensitive.
    /// </summary>
    public static string? Normalize(string from) => from.Trim().ToLowerInvariant() switch
    {
        "human" or "user" => Human,
        "gpt" or "assistant" or "chatgpt" or "bard" or "bing" or "model" => Gpt,
        "system" => System,
        _ => null,
    };
}
