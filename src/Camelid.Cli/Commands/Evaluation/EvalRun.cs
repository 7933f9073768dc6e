using System.Diagnostics;
using Camelid.Data.Teacher;
using Camelid.Evaluation.Answering;

namespace Camelid.Cli.Commands.Evaluation;

/// <summary>
/// Runs an answer or judge job the same way: Ctrl+C stops it cleanly (exit 130; every finished line is on disk,
/// a re-run continues), a failing server stops it with one error line, and a progress line goes to stderr.
/// </summary>
static class EvalRun
{
    public static async Task<int> RunAsync<T>(string verb, RunProgress progress, OpenAiCompatibleTeacher client, string outputPath,
                                              Func<CancellationToken, Task<T>> run, Action<T> report)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var line = new ProgressLine(verb, progress, client);
        try
        {
            var result = await run(cancel.Token);
            line.Stop();
            report(result);
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            line.Stop();
            Console.Error.WriteLine($"interrupted: {progress.Skipped + progress.Done} of {progress.Total} are in {outputPath}; rerun the same command to continue");
            return 130;
        }
        catch (TeacherException e)
        {
            line.Stop();
            throw new TeacherException($"{e.Message}; the {progress.Skipped + progress.Done} finished are kept in {outputPath}: rerun the same command to continue", e);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    public static string Tokens(TeacherUsage usage) =>
        $"{usage.TotalTokens:N0} tokens ({usage.PromptTokens:N0} prompt, {usage.CompletionTokens:N0} completion)";

    /// <summary>Redrawn in place four times a second on a terminal; one plain line every 10 seconds when stderr is a file or pipe.</summary>
    sealed class ProgressLine : IDisposable
    {
        readonly string _verb;
        readonly RunProgress _progress;
        readonly OpenAiCompatibleTeacher _client;
        readonly bool _terminal = !Console.IsErrorRedirected;
        readonly CancellationTokenSource _stop = new();
        readonly Stopwatch _clock = Stopwatch.StartNew();
        readonly Lock _lock = new();
        readonly Task _loop;
        bool _drawn;

        public ProgressLine(string verb, RunProgress progress, OpenAiCompatibleTeacher client)
        {
            _verb = verb;
            _progress = progress;
            _client = client;
            _loop = Task.Run(LoopAsync);
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
            var p = _progress;
            long finished = p.Skipped + p.Done;
            double fraction = p.Total > 0 ? Math.Min(1, (double)finished / p.Total) : 0;
            const int Width = 20;
            int filled = (int)(fraction * Width);
            string line = $"{_verb} [{new string('#', filled)}{new string('.', Width - filled)}] {finished}/{p.Total}" +
                          (p.Failed > 0 ? $"  failed {p.Failed}" : "") +
                          $"  requests {_client.Attempts} (retries {_client.Retries})  tokens {p.Usage.TotalTokens:N0}  {_clock.Elapsed:hh\\:mm\\:ss}";
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
}
