using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Camelid.Cli.Tests;
using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;
using Camelid.Tests;

namespace Camelid.Evaluation.Tests;

public class ResumeTests
{
    static readonly string[] Fast = ["--retry-delay", "0.01", "--request-timeout", "20"];

    static string WriteQuestions(string dir, int count)
    {
        string path = Path.Combine(dir, "question.jsonl");
        File.WriteAllLines(path, Enumerable.Range(1, count).Select(i =>
            $"{{\"question_id\": {i}, \"category\": \"generic\", \"turns\": [\"Question {i}: how do llamas spend day {i}?\"]}}"));
        return path;
    }

    static void WaitForLines(string path, int lines, Process process)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (File.Exists(path) && File.ReadAllLines(path).Length >= lines)
                return;
            if (process.HasExited)
                throw new InvalidOperationException($"camelid exited early with code {process.ExitCode}");
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{path} did not reach {lines} lines");
    }

    [Fact]
    public async Task Answering_killed_mid_run_resumes_without_asking_again_and_ignores_a_torn_line()
    {
        await using var server = await ScriptedServer.StartAsync(latency: TimeSpan.FromMilliseconds(150));
        string bench = TestPaths.NewTempDir();
        string questions = WriteQuestions(bench, 12);
        string output = ModelAnswerFile.PathFor(bench, "model-good");
        string[] args = ["eval", "answer", "--questions", questions, "--model-url", server.Url.ToString(), "--model", "model-good", "--out", bench,
                         "--concurrency", "2", .. Fast];

        using (var process = CliRunner.Start(args))
        {
            WaitForLines(output, 4, process);
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        var beforeResume = ModelAnswerFile.Load(output).Records.Select(a => a.QuestionId).ToHashSet();
        Assert.InRange(beforeResume.Count, 4, 11);
        File.AppendAllText(output, "{\"question_id\": 12, \"answer_id\": \"half-writ"); // as if the kill had hit mid-write
        int requestsBefore = server.RequestCount;

        var resumed = CliRunner.Run(args, null, 120);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Contains("cut an incomplete last line", resumed.StandardError);
        Assert.Contains($"{12 - beforeResume.Count} questions answered, {beforeResume.Count} already there", resumed.StandardOutput);

        var answers = ModelAnswerFile.Load(output).Records;
        Assert.Equal(Enumerable.Range(1, 12).Select(i => QuestionId.Number(i)), answers.Select(a => a.QuestionId));
        Assert.Equal(12 - beforeResume.Count, server.RequestCount - requestsBefore);
        var askedAfterResume = server.Requests.Skip(requestsBefore).Select(r => r.LastUser).ToList();
        Assert.DoesNotContain(askedAfterResume, text => beforeResume.Any(id => text.StartsWith($"Question {id}:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Judging_stopped_with_ctrl_c_exits_130_with_whole_lines_and_continues_on_rerun()
    {
        await using var fast = await ScriptedServer.StartAsync();
        await using var slow = await ScriptedServer.StartAsync(latency: TimeSpan.FromMilliseconds(150));
        string bench = TestPaths.NewTempDir();
        string questions = WriteQuestions(bench, 8);
        foreach (string model in (string[])["model-good", "model-weak"])
            Assert.Equal(0, CliRunner.Run(["eval", "answer", "--questions", questions, "--model-url", fast.Url.ToString(), "--model", model, "--out", bench, .. Fast], null, 60).ExitCode);
        string output = JudgmentFile.PathFor(bench, "judge", JudgmentKind.Pair);
        string[] args = ["eval", "judge", "--questions", questions, "--answers", bench, "--judge-url", slow.Url.ToString(), "--judge-model", "judge",
                         "--mode", "pairwise-all", "--out", bench, "--concurrency", "1", .. Fast];

        using (var process = CliRunner.Start(args))
        {
            WaitForLines(output, 2, process);
            using (var signal = Process.Start("kill", ["-INT", process.Id.ToString()]))
                signal.WaitForExit();
            Assert.True(process.WaitForExit(30_000), "camelid did not stop on SIGINT");
            Assert.Equal(130, process.ExitCode);
        }
        var partial = JudgmentFile.LoadPair(output);
        Assert.Equal(0, partial.TornTailBytes);
        Assert.InRange(partial.Records.Count, 2, 7);

        var resumed = CliRunner.Run(args, null, 120);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Contains($"{8 - partial.Records.Count} judgments, {partial.Records.Count} already there", resumed.StandardOutput);
        var all = JudgmentFile.LoadPair(output).Records;
        Assert.Equal(8, all.Select(j => j.QuestionId).Distinct().Count());
        Assert.Equal(8, all.Count);
    }

    [Fact]
    public async Task Retry_failed_judges_again_only_what_failed()
    {
        await using var server = await ScriptedServer.StartAsync();
        string bench = TestPaths.NewTempDir();
        string questions = Path.Combine(bench, "question.jsonl");
        File.WriteAllText(questions, """
            {"question_id": 1, "category": "generic", "turns": ["Why do llamas hum?"]}
            {"question_id": 2, "category": "generic", "turns": ["Explain quantum tunnelling to a llama."]}
            """);
        Assert.Equal(0, CliRunner.Run(["eval", "answer", "--questions", questions, "--model-url", server.Url.ToString(), "--model", "model-good", "--out", bench, .. Fast], null, 60).ExitCode);
        string[] judge = ["eval", "judge", "--questions", questions, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", "judge", "--out", bench, .. Fast];
        var first = CliRunner.Run(judge, null, 60);
        Assert.Contains("2 judgments, 1 failed", first.StandardOutput);
        int before = server.RequestCount;
        var retried = CliRunner.Run([.. judge, "--retry-failed"], null, 60);
        Assert.Contains("1 judgments, 1 already there, 1 failed", retried.StandardOutput);  // the scripted judge is still confused by question 2
        Assert.Equal(1, server.RequestCount - before);
        var judgments = JudgmentFile.LoadSingle(JudgmentFile.PathFor(bench, "judge", JudgmentKind.Single)).Records;
        Assert.Equal([1, 2], judgments.Select(j => int.Parse(j.QuestionId.Text)));
    }
}

public class ErrorTests
{
    static string Questions(string content)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "question.jsonl");
        File.WriteAllText(path, content);
        return path;
    }

    const string OneQuestion = "{\"question_id\": 1, \"category\": \"generic\", \"turns\": [\"Hi?\"]}\n";

    [Fact]
    public void An_unreachable_server_fails_with_one_clear_line_after_the_retries()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var result = CliRunner.Run(["eval", "answer", "--questions", Questions(OneQuestion), "--model-url", $"http://127.0.0.1:{port}", "--model", "m",
                                    "--out", TestPaths.NewTempDir(), "--max-retries", "1", "--retry-delay", "0.01"], null, 60);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: cannot reach the candidate model at http://127.0.0.1:{port}/v1/chat/completions", result.StandardError);
        Assert.Contains("check --model-url", result.StandardError);
        Assert.Contains("gave up after 2 attempts", result.StandardError);
    }

    [Fact]
    public async Task A_404_names_the_url_and_model_options_of_the_command_in_use()
    {
        await using var server = await ScriptedServer.StartAsync();
        string bench = TestPaths.NewTempDir();
        string questions = Questions(OneQuestion);
        Assert.Equal(0, CliRunner.Run("eval", "answer", "--questions", questions, "--model-url", server.Url.ToString(), "--model", "model-good", "--out", bench).ExitCode);
        // A URL that ends in /completions is used as it is; the scripted server has no such route.
        string wrongRoute = new Uri(server.Url, "/nowhere/chat/completions").ToString();

        var answer = CliRunner.Run("eval", "answer", "--questions", questions, "--model-url", wrongRoute, "--model", "model-good", "--out", TestPaths.NewTempDir());
        Assert.Equal(1, answer.ExitCode);
        Assert.StartsWith($"error: the candidate model at {wrongRoute} refused the request: HTTP 404", answer.StandardError);
        Assert.Contains("(check --model-url and --model)", answer.StandardError);

        var judge = CliRunner.Run("eval", "judge", "--questions", questions, "--answers", bench, "--judge-url", wrongRoute, "--judge-model", "judge", "--out", bench);
        Assert.Equal(1, judge.ExitCode);
        Assert.StartsWith($"error: the judge at {wrongRoute} refused the request: HTTP 404", judge.StandardError);
        Assert.Contains("(check --judge-url and --judge-model)", judge.StandardError);
        Assert.DoesNotContain("--endpoint", answer.StandardError + judge.StandardError);
    }

    [Fact]
    public void Bad_input_gives_a_message_and_a_nonzero_exit()
    {
        string bench = TestPaths.NewTempDir();
        var missing = CliRunner.Run("eval", "answer", "--questions", Path.Combine(bench, "none.jsonl"), "--model-url", "http://127.0.0.1:9", "--model", "m", "--out", bench);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("none.jsonl not found", missing.StandardError);

        var malformed = CliRunner.Run("eval", "answer", "--questions", Questions(OneQuestion + "{\"question_id\": 2, \"turns\": [\"x\"\n"), "--model-url", "http://127.0.0.1:9",
                                      "--model", "m", "--out", bench);
        Assert.Equal(1, malformed.ExitCode);
        Assert.Matches(@"^error: .*question\.jsonl line 2: not valid JSON", malformed.StandardError);

        var unknownMode = CliRunner.Run("eval", "judge", "--questions", Questions(OneQuestion), "--answers", bench, "--judge-url", "http://127.0.0.1:9",
                                        "--judge-model", "j", "--mode", "pairwise-some", "--out", bench);
        Assert.NotEqual(0, unknownMode.ExitCode);
        Assert.Contains("pairwise-some", unknownMode.StandardError);

        var noBaseline = CliRunner.Run("eval", "judge", "--questions", Questions(OneQuestion), "--answers", bench, "--judge-url", "http://127.0.0.1:9",
                                       "--judge-model", "j", "--mode", "pairwise-baseline", "--out", bench);
        Assert.Equal(1, noBaseline.ExitCode);
        Assert.Contains("needs --baseline", noBaseline.StandardError);

        var noAnswers = CliRunner.Run("eval", "judge", "--questions", Questions(OneQuestion), "--answers", bench, "--judge-url", "http://127.0.0.1:9",
                                      "--judge-model", "j", "--out", bench);
        Assert.Equal(1, noAnswers.ExitCode);
        Assert.Contains("no answer files", noAnswers.StandardError);

        var showJson = CliRunner.Run("eval", "show", "--judgments", Path.Combine(bench, "nothing.jsonl"), "--format", "json");
        Assert.Equal(1, showJson.ExitCode);
        Assert.Equal("", showJson.StandardOutput);

        var badUrl = CliRunner.Run("eval", "answer", "--questions", Questions(OneQuestion), "--model-url", "not a url", "--model", "m", "--out", bench);
        Assert.Equal(1, badUrl.ExitCode);
        Assert.Contains("--model-url 'not a url' is not a URL", badUrl.StandardError);
    }

    [Fact]
    public async Task Judging_a_model_without_answers_is_reported()
    {
        await using var server = await ScriptedServer.StartAsync();
        string bench = TestPaths.NewTempDir();
        string questions = Questions(OneQuestion);
        Assert.Equal(0, CliRunner.Run("eval", "answer", "--questions", questions, "--model-url", server.Url.ToString(), "--model", "model-good", "--out", bench).ExitCode);
        var unknown = CliRunner.Run("eval", "judge", "--questions", questions, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", "judge",
                                    "--models", "model-good,model-ghost", "--out", bench);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no answers for model 'model-ghost'", unknown.StandardError);
    }
}
