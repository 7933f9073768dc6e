using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary><c>camelid data convert</c> as a library call: any of the three formats in, one out, streamed.</summary>
public static class FormatConverting
{
    public static Task<DataReport> RunAsync(string inputPath, string outputPath, DataFormat to,
                                            MultiTurnToAlpaca multiTurn = MultiTurnToAlpaca.First, CancellationToken cancellation = default) => to switch
    {
        DataFormat.Alpaca => RunAsync<AlpacaRecord>(inputPath, outputPath, (record, report) => ToAlpaca(record, multiTurn, report), cancellation),
        DataFormat.Messages => RunAsync(inputPath, outputPath, (record, report) =>
            FormatConversion.ToMessages(record.Conversation) ?? Drop<OpenAiMessagesRecord>(report, FormatConversion.UnknownRole), cancellation),
        _ => RunAsync(inputPath, outputPath, (record, report) =>
            FormatConversion.Normalize(record.Conversation) ?? Drop<ShareGptConversation>(report, FormatConversion.UnknownRole), cancellation),
    };

    static AlpacaRecord? ToAlpaca(SourceRecord record, MultiTurnToAlpaca multiTurn, DataReport report)
    {
        if (record.Alpaca != null)
            return record.Alpaca;
        var alpaca = FormatConversion.ToAlpaca(record.Conversation, multiTurn, out string? reason, out bool systemDropped);
        if (alpaca == null)
            return Drop<AlpacaRecord>(report, reason!);
        if (systemDropped)
            report.Note("system turns left out");
        if (record.Conversation.Turns.Count(t => t.Role != ShareGptRoles.System) > 2)
            report.Note("multi-turn conversations cut to their first exchange");
        return alpaca;
    }

    static T? Drop<T>(DataReport report, string reason) where T : class
    {
        report.Drop(reason);
        return null;
    }

    static async Task<DataReport> RunAsync<T>(string inputPath, string outputPath, Func<SourceRecord, DataReport, T?> convert,
                                              CancellationToken cancellation) where T : class
    {
        var report = new DataReport();
        using var writer = new DataFileWriter<T>(outputPath);
        await foreach (var record in ConversationFile.ReadRecordsAsync(inputPath, cancellation))
        {
            report.Read++;
            if (convert(record, report) is { } converted)
            {
                writer.Write(converted);
                report.Written++;
            }
        }
        writer.Commit();
        return report;
    }
}
