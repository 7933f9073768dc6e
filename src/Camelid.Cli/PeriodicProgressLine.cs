using System.Diagnostics;

namespace Camelid.Cli;

/// <summary>
/// A progress line on stderr for long jobs that wait on a server: redrawn in place four times a second on a terminal,
/// one plain line every 10 seconds when stderr is a file or pipe (so logs stay readable).
/// </summary>
sealed class PeriodicProgressLine : IDisposable
{
    readonly Func<TimeSpan, string> _render;
    readonly bool _terminal = !Console.IsErrorRedirected;
    readonly CancellationTokenSource _stop = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly Lock _lock = new();
    readonly Task _loop;
    bool _drawn;

    /// <param name="render">The line, given the time since the job started.</param>
    public PeriodicProgressLine(Func<TimeSpan, string> render)
    {
        _render = render;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>"[#####...............]" for a fraction done in [0, 1].</summary>
    public static string Bar(double fraction)
    {
        const int Width = 20;
        int filled = (int)(Math.Clamp(fraction, 0, 1) * Width);
        return $"[{new string('#', filled)}{new string('.', Width - filled)}]";
    }

    async Task LoopAsync()
    {
        var period = _terminal ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(10);
        try
        {
            while (true)
            {
                await Task.Delay(period, _stop.Token);
                Draw();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    void Draw()
    {
        string line = _render(_clock.Elapsed);
        lock (_lock)
        {
            if (_terminal)
            {
                Console.Error.Write("\r" + line + "\u001b[K");
                _drawn = true;
            }
            else
                Console.Error.WriteLine(line);
        }
    }

    /// <summary>Stops redrawing and ends the line, so what is printed next starts on its own line.</summary>
    public void Stop()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _loop.Wait();
        lock (_lock)
            if (_drawn)
                Console.Error.WriteLine();
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }
}
