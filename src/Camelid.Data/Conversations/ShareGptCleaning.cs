using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>
/// <c>camelid data clean-sharegpt</c> as a library call: streams the input, cleans batches on all cores, then
/// deduplicates and writes in input order, so the output is the same whatever the core count. Memory holds one
/// batch plus the duplicate sets, never the whole file.
/// </summary>
public static class ShareGptCleaning
{
    const int BatchSize = 512;

    public static async Task<DataReport> RunAsync(string inputPath, string outputPath, CleanOptions options,
                                                  Action<DataReport>? progress = null, CancellationToken cancellation = default)
    {
        var cleaner = new ConversationCleaner(options);
        var deduplicator = options.Deduplicate ? new ConversationDeduplicator() : null;
        var report = new DataReport();
        using var writer = new DataFileWriter<ShareGptConversation>(outputPath);
        var batch = new List<ShareGptConversation>(BatchSize);
        var results = new CleanResult[BatchSize];

        void Flush()
        {
            Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = cancellation }, i => results[i] = cleaner.Clean(batch[i]));
            for (int i = 0; i < batch.Count; i++)
            {
                var result = results[i];
                string? reason = result.DropReason ?? deduplicator?.Check(result.Conversation!);
                if (reason != null)
                {
                    report.Drop(reason);
                    continue;
                }
                if (result.LeadingGptTurnRemoved) report.Note("leading gpt turn removed");
                if (result.TrailingHumanTurnRemoved) report.Note("trailing human turn removed");
                writer.Write(result.Conversation!);
                report.Written++;
            }
            report.Read += batch.Count;
            batch.Clear();
            Array.Clear(results);
            progress?.Invoke(report);
        }

        await foreach (var conversation in DataFile.ReadAsync<ShareGptConversation>(inputPath, cancellation))
        {
            batch.Add(conversation);
            if (batch.Count == BatchSize)
                Flush();
        }
        Flush();
        writer.Commit();
        return report;
    }
}
