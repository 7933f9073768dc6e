using System.Diagnostics;
using Camelid.Model.Conversion;

namespace Camelid.Cli;

/// <summary>What synth and quantize print: progress on stderr while they run, one summary line on stdout at the end,
/// and the Ctrl+C handling that stops them cleanly.</summary>
static class ConversionReporting
{
    /// <summary>Progress on stderr: a self-overwriting line on a terminal (at most ~5 updates a second), one line per
    /// tenth of the work when stderr is redirected to a log.</summary>
    public static Action<ConversionProgress> Progress()
    {
        bool terminal = !Console.IsErrorRedirected;
        var sinceUpdate = Stopwatch.StartNew();
        int lastTenth = -1;
        return p =>
        {
            int percent = (int)(p.Fraction * 100);
            string line = $"[{p.TensorIndex + 1,4}/{p.TensorCount}] {percent,3}%  {p.TensorName} -> {p.Type}";
            if (terminal)
            {
                if (sinceUpdate.ElapsedMilliseconds < 200 && p.BytesWritten < p.BytesTotal)
                    return;
                sinceUpdate.Restart();
                Console.Error.Write("\r" + line + "\u001b[K"); // ANSI erase to end of line: a shorter line leaves no tail
            }
            else if (percent / 10 > lastTenth)
            {
                lastTenth = percent / 10;
                Console.Error.WriteLine(line);
            }
        };
    }

    /// <summary>Runs a conversion with Ctrl+C wired to its cancellation; an interrupted run leaves no output file.</summary>
    public static int Run(Func<ConversionOptions, ConversionResult> convert, int threads)
    {
        if (threads < 1)
            throw new ArgumentException("--threads must be at least 1");
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var result = convert(new ConversionOptions { Threads = threads, Progress = Progress(), Cancellation = cancel.Token });
            if (!Console.IsErrorRedirected)
                Console.Error.WriteLine();
            Console.WriteLine($"wrote {result.Path}: {result.FileBytes / (1024.0 * 1024):F1} MiB, {LlamaFileTypes.Name(result.FileType)} " +
                              $"({result.TypeSummary}), {result.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)):N0} parameters, " +
                              $"{result.Elapsed.TotalSeconds:F1} s");
            if (result.Fallbacks > 0)
                Console.Error.WriteLine($"note: {result.Fallbacks} tensor(s) have rows that do not fit the chosen type and use a fallback type (as llama-quantize does)");
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("interrupted: no file written");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
