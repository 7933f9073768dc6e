using System.Runtime.CompilerServices;
using System.Text.Json;
using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>One record of any of the three formats: its format, its place in the file, its turns, and the
/// Alpaca record itself when it was one (so Alpaca → Alpaca keeps instruction and input apart).</summary>
public sealed record SourceRecord(DataFormat Format, int Index, ShareGptConversation Conversation, AlpacaRecord? Alpaca = null);

/// <summary>
/// Reads Alpaca, ShareGPT or OpenAI-messages files (JSON array or JSON lines), telling each record's format by its
/// keys: "conversations" → ShareGPT, "messages" → messages, "instruction" → Alpaca. Streams like <see cref="DataFile"/>.
/// Ids of records that have none: "alpaca_{index}" and "messages_{index}" (0-based), as FastChat names them.
/// </summary>
public static class ConversationFile
{
    public static async IAsyncEnumerable<SourceRecord> ReadRecordsAsync(string path, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        int index = 0;
        await foreach (var element in DataFile.ReadAsync<JsonElement>(path, cancellation))
            yield return ToRecord(element, index++, path);
    }

    /// <summary>Every record as a ShareGPT conversation.</summary>
    public static async IAsyncEnumerable<ShareGptConversation> ReadAsync(string path, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        await foreach (var record in ReadRecordsAsync(path, cancellation))
            yield return record.Conversation;
    }

    public static DataFormat? DetectFormat(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object)
            return null;
        if (record.TryGetProperty("conversations", out _))
            return DataFormat.ShareGpt;
        if (record.TryGetProperty("messages", out _))
            return DataFormat.Messages;
        if (record.TryGetProperty("instruction", out _))
            return DataFormat.Alpaca;
        return null;
    }

    static SourceRecord ToRecord(JsonElement element, int index, string path)
    {
        var format = DetectFormat(element)
            ?? throw new DataFormatException($"{path}: record {index + 1} is not Alpaca, ShareGPT or messages data (no \"instruction\", \"conversations\" or \"messages\" key)");
        try
        {
            switch (format)
            {
                case DataFormat.ShareGpt:
                    return new SourceRecord(format, index, element.Deserialize<ShareGptConversation>(DataJson.Options)!);
                case DataFormat.Messages:
                    var messages = element.Deserialize<OpenAiMessagesRecord>(DataJson.Options)!;
                    return new SourceRecord(format, index, FormatConversion.FromMessages(messages, $"messages_{index}"));
                default:
                    var alpaca = element.Deserialize<AlpacaRecord>(DataJson.Options)!;
                    return new SourceRecord(format, index, FormatConversion.FromAlpaca(alpaca, $"alpaca_{index}"), alpaca);
            }
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{path}: record {index + 1} is not valid {format} data: {e.Message}", e);
        }
    }
}
