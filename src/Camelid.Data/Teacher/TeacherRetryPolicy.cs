using System.Net.Http.Headers;
using System.Net.Sockets;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Camelid.Data.Teacher;

/// <summary>
/// Which teacher failures are retried and how long to wait before the next attempt. Retried: HTTP 408, 409, 425,
/// 429 and 5xx; attempts that time out; connections refused or reset; bodies that are cut short or are not the
/// JSON of a completion. Not retried: other 4xx (a wrong key, model or request will not get better) and the
/// caller's own cancellation. The wait is the server's Retry-After when it sent one, else exponential backoff
/// with "equal jitter" (half fixed, half random) so that parallel requests do not retry in lockstep.
/// </summary>
public static class TeacherRetryPolicy
{
    public static bool IsTransient(Exception e) => e switch
    {
        TeacherHttpException http => http.IsTransient,
        TeacherResponseException => true,
        TeacherException => false,
        TimeoutRejectedException => true,
        HttpRequestException => true,   // refused, reset, DNS, or a body that ended before Content-Length
        IOException => true,            // the connection dropped while the body was read
        SocketException => true,
        _ => false,
    };

    /// <summary>
    /// The wait before retry number <paramref name="attempt"/> (0 = the first retry). <paramref name="random01"/>
    /// is a uniform number in [0, 1) (a parameter so tests can pin it).
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan? retryAfter, TeacherOptions options, double random01)
    {
        if (retryAfter is { } asked)
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > options.RetryAfterLimit ? options.RetryAfterLimit : asked;
        double capped = Math.Min(options.RetryMaxDelay.TotalMilliseconds,
                                 options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(capped / 2 + capped / 2 * random01);
    }

    /// <summary>Reads Retry-After in either form: delta seconds ("7") or an HTTP date.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta)
            return delta;
        if (header?.Date is { } date)
            return date > now ? date - now : TimeSpan.Zero;
        return null;
    }

    /// <summary>Retry (outer) around a per-attempt timeout (inner), as Polly pipelines compose.</summary>
    public static ResiliencePipeline<TeacherCompletion> Build(TeacherOptions options, Action<OnRetryArguments<TeacherCompletion>>? onRetry = null)
    {
        var builder = new ResiliencePipelineBuilder<TeacherCompletion>();
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<TeacherCompletion>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
                // All delays are computed here (Polly's own backoff would cap Retry-After at MaxDelay).
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(args.AttemptNumber,
                    (args.Outcome.Exception as TeacherHttpException)?.RetryAfter, options, Random.Shared.NextDouble())),
                OnRetry = args =>
                {
                    onRetry?.Invoke(args);
                    return ValueTask.CompletedTask;
                },
            });
        }
        builder.AddTimeout(options.RequestTimeout);
        return builder.Build();
    }
}
