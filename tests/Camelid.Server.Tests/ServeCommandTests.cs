using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Camelid.Cli.Tests;
using Camelid.Model.Conversion;
using Camelid.Tests;
using Camelid.WebUi.Tests;

namespace Camelid.Server.Tests;

/// <summary>`camelid serve` as a user runs it, and the README's curl examples against it.</summary>
public class ServeCommandTests : IAsyncLifetime
{
    readonly string _dir = TestPaths.NewTempDir("serve-command");
    string ModelPath => Path.Combine(_dir, "tiny.gguf");

    public Task InitializeAsync()
    {
        ModelSynthesizer.Synthesize(ModelShapes.Named["stories260k"], LlamaFileType.AllF32, seed: 9, ModelPath);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_readme_curl_examples_run_against_a_real_server()
    {
        // The README serves TinyLlama as "tinyllama"; a random-weight model of another shape stands in for it.
        await using var server = await CamelidServer.StartAsync($"{ModelPath}=tinyllama", "--ctx", "512");
        await WaitReady(server.BaseUrl);
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var blocks = Regex.Matches(readme, "```sh\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value)
            .Where(b => b.Contains("curl") && b.Contains("127.0.0.1:8080")).ToList();
        Assert.NotEmpty(blocks);
        string script = "set -e\n" + string.Join("\n", blocks).Replace("http://127.0.0.1:8080", server.BaseUrl.ToString().TrimEnd('/'));
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(start)!;
        var stdout = bash.StandardOutput.ReadToEndAsync();
        string stderr = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        string output = await stdout;
        Assert.True(bash.ExitCode == 0, $"README curl examples failed ({bash.ExitCode}):\n{stderr}\n{output}");
        foreach (var expected in new[] { "\"object\":\"chat.completion\"", "chat.completion.chunk", "data: [DONE]", "\"object\":\"text_completion\"",
                                         "\"object\":\"embedding\"", "\"id\":\"tinyllama\"", "\"tokens\":[" })
            Assert.Contains(expected, output);
    }

    [Fact]
    public async Task Serve_takes_its_key_from_the_environment_and_stops_cleanly_on_sigterm()
    {
        var server = await CamelidServer.StartAsync(ModelPath, new Dictionary<string, string> { ["CAMELID_API_KEY"] = "env-key" });
        await using (server)
        {
            await WaitReady(server.BaseUrl);
            using var http = new HttpClient { BaseAddress = server.BaseUrl };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/models")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new("Bearer", "env-key");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/models")).StatusCode);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("shutting down", server.Output);
        }
    }

    [Fact]
    public void Bad_arguments_fail_with_one_clear_line_and_exit_code_1()
    {
        var missing = CliRunner.Run("serve", "--model", Path.Combine(_dir, "nope.gguf"), "--port", "0");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.gguf: no such model file", missing.StandardError);

        var corrupt = Path.Combine(_dir, "corrupt.gguf");
        File.WriteAllBytes(corrupt, "GGUF not really"u8.ToArray());
        var broken = CliRunner.Run(["serve", "--model", corrupt, "--port", "0"], timeoutSeconds: 60);
        Assert.Equal(1, broken.ExitCode);
        Assert.StartsWith("error:", broken.StandardError.Trim());

        var twice = CliRunner.Run("serve", "--model", $"{ModelPath}=a", "--model", $"{ModelPath}=a", "--port", "0");
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("two models are named 'a'", twice.StandardError);

        var template = CliRunner.Run("serve", "--model", ModelPath, "--template", "klingon", "--port", "0");
        Assert.Equal(1, template.ExitCode);
        Assert.Contains("Unknown chat template 'klingon'", template.StandardError);
    }

    static async Task WaitReady(Uri address)
    {
        using var http = new HttpClient { BaseAddress = address };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if ((await http.GetAsync("/health")).StatusCode == HttpStatusCode.OK)
                return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{address} never became healthy");
    }
}
