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
        using var line = new PeriodicProgressLine(elapsed =>
        {
            long finished = progress.Skipped + progress.Done;
            return $"{verb} {PeriodicProgressLine.Bar(progress.Total > 0 ? (double)finished / progress.Total : 0)} {finished}/{progress.Total}" +
                   (progress.Failed > 0 ? $"  failed {progress.Failed}" : "") +
                   $"  requests {client.Attempts} (retries {client.Retries})  tokens {progress.Usage.TotalTokens:N0}  {elapsed:hh\\:mm\\:ss}";
        });
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
}
