using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.WebUi.Tests;

/// <summary>The real `camelid serve` in a child process, as a user starts it; disposing it ends the process tree.</summary>
public sealed partial class CamelidServer : IAsyncDisposable
{
    static readonly string CamelidDll = Path.Combine(AppContext.BaseDirectory, "camelid.dll");

    [GeneratedRegex(@"listening on (http://[^\s/]+:\d+)")]
    private static partial Regex ListeningLine();

    readonly Process process;
    readonly StringBuilder output;

    public Uri BaseUrl { get; }

    CamelidServer(Process process, StringBuilder output, Uri baseUrl)
    {
        this.process = process;
        this.output = output;
        BaseUrl = baseUrl;
    }

    /// <summary>What the server printed so far, stdout and stderr interleaved, for failure messages.</summary>
    public string Output { get { lock (output) return output.ToString(); } }

    /// <summary>Starts `camelid serve --model MODEL --port 0 EXTRA...` and waits for its "listening on" line.</summary>
    public static Task<CamelidServer> StartAsync(string modelPath, params string[] extraArguments) =>
        StartAsync(modelPath, new Dictionary<string, string>(), extraArguments);

    /// <summary>As above, with extra environment variables for the child (e.g. CAMELID_API_KEY).</summary>
    public static async Task<CamelidServer> StartAsync(string modelPath, IReadOnlyDictionary<string, string> environment, params string[] extraArguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
        };
        // A key in the environment would make every server a keyed one; the tests choose with --api-key.
        start.Environment.Remove("CAMELID_API_KEY");
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        foreach (var argument in (string[])[CamelidDll, "serve", "--model", modelPath, "--port", "0", .. extraArguments])
            start.ArgumentList.Add(argument);

        var process = Process.Start(start)!;
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } m)
                listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException(
            $"camelid serve exited with code {process.ExitCode} before listening:\n{Snapshot(output)}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            return new CamelidServer(process, output, await listening.Task.WaitAsync(TimeSpan.FromSeconds(90)));
        }
        catch (TimeoutException)
        {
            Stop(process);
            throw new TimeoutException($"camelid serve printed no 'listening on http://...' line in 90 s:\n{Snapshot(output)}");
        }
        catch
        {
            Stop(process);
            throw;
        }
    }

    static string Snapshot(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        process.Dispose();
    }

    /// <summary>Sends SIGTERM, as a service manager stopping the server would, and returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
            await kill.WaitForExitAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        Stop(process);
        return ValueTask.CompletedTask;
    }
}
