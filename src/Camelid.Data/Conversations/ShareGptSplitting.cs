using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>
/// <c>camelid data split-long</c> as a library call: streams the input, tokenizes batches on all cores, writes
/// the pieces in input order.
/// </summary>
public static class ShareGptSplitting
{
    const int BatchSize = 256;

    public static async Task<DataReport> RunAsync(string inputPath, string outputPath, ConversationSplitter splitter,
                                                  Action<DataReport>? progress = null, CancellationToken cancellation = default)
    {
        var report = new DataReport();
        using var writer = new DataFileWriter<ShareGptConversation>(outputPath);
        var batch = new List<ShareGptConversation>(BatchSize);
        var results = new SplitResult[BatchSize];

        void Flush()
        {
            Parallel.For(0, batch.Count, new ParallelOptions { CancellationToken = cancellation }, i => results[i] = splitter.Split(batch[i]));
            for (int i = 0; i < batch.Count; i++)
            {
                var result = results[i];
                if (result.DropReason != null)
                    report.Drop(result.DropReason);
                if (result.RoundsDropped > 0) report.Note("rounds longer than the limit dropped", result.RoundsDropped);
                if (result.AnswersTruncated > 0) report.Note("answers truncated to fit", result.AnswersTruncated);
                if (result.TrailingHumanTurnRemoved) report.Note("trailing human turn removed");
                if (result.Pieces.Count > 1) report.Note("conversations split", 1);
                foreach (var piece in result.Pieces)
                    writer.Write(piece);
                report.Written += result.Pieces.Count;
            }
            report.Read += batch.Count;
            batch.Clear();
            Array.Clear(results);
            progress?.Invoke(report);
        }

        await foreach (var conversation in ConversationFile.ReadAsync(inputPath, cancellation))
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
