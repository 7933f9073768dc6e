using System.Threading.Channels;
using Camelid.Inference.Batching;
using Camelid.Inference.Generation;
using Camelid.Model;
using Camelid.Server.Hosting;
using Camelid.Server.Monitoring;
using Camelid.Server.OpenAi;

namespace Camelid.Server.Endpoints;

/// <summary>One update of one choice (an OpenAI response holds n choices, each its own sequence).</summary>
readonly record struct ChoiceUpdate(int Index, GenerationUpdate Update);

/// <summary>
/// Submits the sequences of a request to the model's batcher and merges their updates into one stream.
/// Submission happens before anything is written, so a full queue or an oversized prompt is still an
/// ordinary error response (429, 400) rather than a broken stream.
/// </summary>
static class ChoiceRunner
{
    public static IAsyncEnumerable<ChoiceUpdate> Start(ServedModel model, IReadOnlyList<GenerationRequest> requests,
        ServerMetrics metrics, CancellationToken aborted)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var streams = new List<IAsyncEnumerable<GenerationUpdate>>();
        try
        {
            foreach (var r in requests)
                streams.Add(model.Batcher.Submit(r, cancel.Token));
        }
        catch (Exception e)
        {
            cancel.Cancel(); // the choices already queued give their places back
            cancel.Dispose();
            throw e switch
            {
                QueueFullException q => new ApiException(429, q.Message, "server_busy", type: "rate_limit_error") { RetryAfterSeconds = 1 },
                ContextOverflowException c => ContextTooLong(c.Needed, model.ContextLength, "messages"),
                _ => e,
            };
        }

        var merged = Channel.CreateUnbounded<ChoiceUpdate>(new UnboundedChannelOptions { SingleReader = true });
        var started = DateTime.UtcNow;
        int firstTokenSeen = 0;
        // A prompt counts once however many choices it has (the choices of one prompt share its token array).
        var firstOfItsPrompt = requests.Select((r, i) => !requests.Take(i).Any(earlier => ReferenceEquals(earlier.PromptTokens, r.PromptTokens))).ToArray();
        var pumps = streams.Select((stream, index) => Task.Run(async () =>
        {
            await foreach (var update in stream)
            {
                if (update.TokenId != null && Interlocked.Exchange(ref firstTokenSeen, 1) == 0)
                    metrics.ObserveTimeToFirstToken(DateTime.UtcNow - started);
                if (update.Summary is { } s && s.FinishReason != FinishReason.Cancelled)
                {
                    metrics.CountTokens(model.Alias, firstOfItsPrompt[index] ? s.PromptTokens : 0, firstOfItsPrompt[index] ? s.ReusedPromptTokens : 0, s.GeneratedTokens);
                    if (s.GenerationTokensPerSecond > 0)
                        metrics.ObserveTokensPerSecond(s.GenerationTokensPerSecond);
                }
                await merged.Writer.WriteAsync(new ChoiceUpdate(index, update));
            }
        })).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t =>
        {
            merged.Writer.TryComplete(t.Exception?.InnerException);
            cancel.Dispose();
        }, TaskScheduler.Default);
        return merged.Reader.ReadAllAsync(CancellationToken.None);
    }

    public static ApiException ContextTooLong(int needed, int context, string param) => new(400,
        $"This model's context is {context} tokens, but the request needs {needed} (prompt plus the tokens to generate). " +
        $"Shorten the {param} or lower max_tokens.", "context_length_exceeded", param);

    public static string FinishReasonText(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    public const string SystemFingerprint = "camelid";

    /// <summary>
    /// A response or stream chunk around its choices, as OpenAI shapes it. With <paramref name="withUsage"/> the
    /// "usage" field is present (null until the last chunk, as OpenAI streams it with include_usage), else absent.
    /// </summary>
    public static object Envelope(string id, string objectName, long created, string model, object choices, bool withUsage, object? usage = null) =>
        withUsage
            ? new { id, @object = objectName, created, model, system_fingerprint = SystemFingerprint, choices, usage }
            : new { id, @object = objectName, created, model, system_fingerprint = SystemFingerprint, choices };

    /// <summary>OpenAI's usage, with the prompt tokens read from a cache instead of the model as cached_tokens.</summary>
    public static object Usage(int promptTokens, int completionTokens, int cachedPromptTokens) => new
    {
        prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens,
        prompt_tokens_details = new { cached_tokens = cachedPromptTokens },
    };
}
