using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Camelid.Data.Formats;
using Camelid.Data.Instructions;
using Camelid.Tests;
using Camelid.Tests.Teachers;

namespace Camelid.Cli.Tests;

/// <summary>
/// `camelid data self-instruct` end to end: the real CLI process against the scripted OpenAI-compatible teacher
/// (Kestrel on 127.0.0.1) with Self-Instruct's 175 seed tasks; teacher failures; SIGKILL and resume.
/// </summary>
public class DataSelfInstructTests
{
    const string SeedTasksFile = "instruct/seed_tasks.jsonl";
    const string AlpacaPromptFile = "instruct/alpaca_prompt.txt";

    static string[] Args(Uri teacher, string output, int count, params string[] more) =>
    [
        "data", "self-instruct", "--seed-tasks", TestPaths.Shared(SeedTasksFile), "--out", output, "--num", count.ToString(),
        "--teacher-url", teacher.ToString(), "--teacher-model", "scripted", "--request-timeout", "1", "--retry-delay", "0.02", .. more,
    ];

    [SharedDataFact(SeedTasksFile, AlpacaPromptFile)]
    public async Task Alpaca_EndToEnd_ThroughEveryFailureMode()
    {
        await using var teacher = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions
        {
            FailFirst = [TeacherFailure.RateLimited, TeacherFailure.ServerError, TeacherFailure.Slow, TeacherFailure.TruncatedBody, TeacherFailure.InvalidJson],
            FailureRate = 0.1,
        });
        string dir = TestPaths.NewTempDir(), output = Path.Combine(dir, "alpaca.json");
        var r = CliRunner.Run(Args(teacher.Url, output, 150, "--prompt-file", TestPaths.Shared(AlpacaPromptFile), "--concurrency", "4", "--batch", "2"));
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.StartsWith($"wrote {output}: 150 records;", r.StandardOutput);
        Assert.DoesNotContain("\r", r.StandardError); // no redrawn progress line when stderr is not a terminal

        Assert.StartsWith("[", File.ReadAllText(output).TrimStart());
        var records = DataFile.Read<AlpacaRecord>(output).ToList();
        Assert.Equal(150, records.Count);
        Assert.All(records, x => Assert.True(x.Instruction.Length > 0 && x.Output.Length > 0));
        Assert.DoesNotContain(records, x => x.Input == "<noinput>");
        Assert.Equal(records.Count, records.Select(x => x.Instruction).Distinct().Count());

        var report = DropReport.Read(Path.Combine(dir, "alpaca.dropped.json"));
        foreach (var reason in new[] { DropReason.TooShort, DropReason.TooLong, DropReason.ForbiddenWord, DropReason.WriteAProgram, DropReason.LeadingPunctuation,
                                       DropReason.NonAsciiStart, DropReason.TooSimilar, DropReason.Unparsable, DropReason.Truncated })
            Assert.True(report.ByReason.ContainsKey(reason), $"no {reason} drop in {string.Join(", ", report.ByReason.Keys)}");
        foreach (var drop in report.Candidates)
        {
            Assert.False(string.IsNullOrEmpty(drop.Reason));
            if (drop.Reason != DropReason.QuotaReached && drop.Instruction.Length > 0)
                Assert.True(drop.MostSimilar != null && drop.Score != null, $"{drop.Reason}: {drop.Instruction}");
            if (drop.Reason == DropReason.TooSimilar)
                Assert.True(drop.Score > 0.7);
        }
        Assert.Equal(5, teacher.Injected.Count); // 429, 500, slow, truncated body, invalid JSON: all retried
    }

    [SharedDataFact(SeedTasksFile)]
    public async Task SelfInstruct_EndToEnd_WritesJsonLines()
    {
        await using var teacher = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { FailureRate = 0.1, SlowDelay = TimeSpan.FromSeconds(2) });
        string dir = TestPaths.NewTempDir(), output = Path.Combine(dir, "tasks.jsonl");
        var r = CliRunner.Run(Args(teacher.Url, output, 20, "--mode", "self-instruct", "--endpoint", "completions"));
        Assert.True(r.ExitCode == 0, r.StandardError);
        var lines = File.ReadAllLines(output);
        Assert.NotEmpty(lines);
        var records = lines.Select(l => JsonSerializer.Deserialize<AlpacaRecord>(l, DataJson.Options)!).ToList();
        Assert.All(records.GroupBy(x => x.Instruction), g => Assert.InRange(g.Count(), 1, 5));
        Assert.InRange(records.Select(x => x.Instruction).Distinct().Count(), 5, 20);
        var report = DropReport.Read(Path.Combine(dir, "tasks.dropped.json"));
        Assert.Equal("self-instruct", report.Mode);
        Assert.Contains(report.Candidates, c => c.Stage == "instances");
        Assert.Contains(report.Candidates, c => c.Stage == "bootstrap" && c.Reason == DropReason.TooSimilar);
    }

    [SharedDataFact(SeedTasksFile)]
    public async Task KilledAtRandomPoints_AndResumed_GivesExactlyTheUninterruptedRecords()
    {
        var options = new ScriptedTeacherOptions { FailureRate = 0.1, MinLatencyMs = 40, MaxLatencyMs = 150, SlowDelay = TimeSpan.FromSeconds(2) };
        string straight = Path.Combine(TestPaths.NewTempDir(), "out.json"), killed = Path.Combine(TestPaths.NewTempDir(), "out.json");
        string[] more = ["--concurrency", "2", "--batch", "1"];
        await using (var teacher = await ScriptedTeacher.StartAsync(options))
        {
            var reference = CliRunner.Run(Args(teacher.Url, straight, 200, more));
            Assert.True(reference.ExitCode == 0, reference.StandardError);
        }

        await using (var teacher = await ScriptedTeacher.StartAsync(options))
        {
            var random = new Random(2026);
            int killedMidway = 0;
            for (int k = 0; k < 5; k++)
            {
                using var process = CliRunner.Start(Args(teacher.Url, killed, 200, more));
                if (!KillAfterProgress(process, GenerationJournal.PathFor(killed), random))
                    break; // it finished first
                killedMidway++;
                Assert.False(File.Exists(killed) && DataFile.Read<AlpacaRecord>(killed).Count() >= 200, "the run finished before it was killed");
            }
            Assert.True(killedMidway >= 3, $"killed only {killedMidway} times mid-run");
            var last = CliRunner.Run(Args(teacher.Url, killed, 200, more));
            Assert.True(last.ExitCode == 0, last.StandardError);
        }

        var expected = DataFile.Read<AlpacaRecord>(straight).ToList();
        var actual = DataFile.Read<AlpacaRecord>(killed).ToList();
        Assert.Equal(200, actual.Count);
        Assert.Equal(expected, actual);                               // same records, same order: none lost, none twice
        Assert.Equal(File.ReadAllBytes(straight), File.ReadAllBytes(killed));
        Assert.Equal(File.ReadAllText(Path.ChangeExtension(straight, ".dropped.json")), File.ReadAllText(Path.ChangeExtension(killed, ".dropped.json")));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(killed)!, "*.tmp")); // temporaries of killed rewrites are cleaned up
        var journalUnits = File.ReadAllLines(GenerationJournal.PathFor(killed)).Skip(1)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("unit").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, journalUnits.Count), journalUnits); // every request group once, in order
    }

    [SharedDataFact(SeedTasksFile)]
    public void UnreachableTeacher_IsOneClearError_AndLeavesNoOutput()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        string dir = TestPaths.NewTempDir(), output = Path.Combine(dir, "out.json");
        var r = CliRunner.Run(Args(new Uri($"http://127.0.0.1:{port}"), output, 10, "--max-retries", "1"));
        Assert.Equal(1, r.ExitCode);
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: cannot reach the teacher at http://127.0.0.1:", lines[0]);
        Assert.Contains("rerun the same command", lines[0]);
        Assert.False(File.Exists(output));
    }

    [SharedDataFact(SeedTasksFile)]
    public async Task RefusedRequest_AndChangedOptions_AreOneLineErrors()
    {
        string dir = TestPaths.NewTempDir(), output = Path.Combine(dir, "out.json");
        await using (var refusing = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions { AlwaysStatus = 401 }))
        {
            var r = CliRunner.Run(Args(refusing.Url, output, 10));
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("refused the request: HTTP 401", r.StandardError);
            Assert.Contains("--api-key", r.StandardError);
            Assert.Single(r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        await using var teacher = await ScriptedTeacher.StartAsync();
        Assert.Equal(0, CliRunner.Run(Args(teacher.Url, output, 10)).ExitCode);
        var changed = CliRunner.Run(Args(teacher.Url, output, 10, "--seed", "7"));
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("--seed 42 (now 7)", changed.StandardError);
        Assert.Equal(10, DataFile.Read<AlpacaRecord>(output).Count());
    }

    /// <summary>
    /// Waits until the run has committed 1 to 3 more request groups (the journal grows), then a few more
    /// milliseconds, and SIGKILLs it: so every kill lands mid-run, at a random point of a write or a wait.
    /// Returns false when the process ended by itself first.
    /// </summary>
    static bool KillAfterProgress(Process process, string journal, Random random)
    {
        int growths = random.Next(1, 4);
        long last = new FileInfo(journal).Exists ? new FileInfo(journal).Length : 0;
        var deadline = Stopwatch.StartNew();
        while (growths > 0 && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.WaitForExit(10))
                return false;
            var info = new FileInfo(journal);
            if (info.Exists && info.Length > last)
            {
                last = info.Length;
                growths--;
            }
        }
        if (process.WaitForExit(random.Next(0, 120)))
            return false;
        process.Kill(entireProcessTree: true); // SIGKILL: no chance to clean up
        process.WaitForExit();
        return true;
    }
}
