using System.Diagnostics;

namespace Camelid.Data.Teacher;

/// <summary>
/// Spaces request starts at least 60/<c>requestsPerMinute</c> seconds apart, across all callers: each caller
/// takes the next free start time and waits for it. No bursts, so a server's per-minute limit is never hit
/// by a crowd of requests released at once. Thread-safe.
/// </summary>
public sealed class RequestPacer(double requestsPerMinute)
{
    readonly long _intervalTicks = (long)(Stopwatch.Frequency * 60.0 / requestsPerMinute);
    readonly Lock _lock = new();
    long _nextStart = Stopwatch.GetTimestamp();

    public Task WaitAsync(CancellationToken cancellation)
    {
        var wait = Reserve(Stopwatch.GetTimestamp());
        return wait > TimeSpan.Zero ? Task.Delay(wait, cancellation) : Task.CompletedTask;
    }

    /// <summary>Takes the next start time for a request made at <paramref name="now"/> (a Stopwatch timestamp); returns the wait until it.</summary>
    public TimeSpan Reserve(long now)
    {
        long start;
        lock (_lock)
        {
            start = Math.Max(_nextStart, now);
            _nextStart = start + _intervalTicks;
        }
        return Stopwatch.GetElapsedTime(now, start);
    }
}
