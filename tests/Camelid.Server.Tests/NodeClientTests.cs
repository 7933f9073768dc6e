using System.Diagnostics;
using System.Text.Json;
using Camelid.Tests;

namespace Camelid.Server.Tests;

/// <summary>The npm `openai` package (node-client/client.mjs) against camelid serve: a client from another ecosystem.</summary>
public class NodeClientTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    public static readonly string ClientDir = Path.Combine(TestPaths.RepoRoot, "tests", "Camelid.Server.Tests", "node-client");

    [NodeClientFact]
    public async Task The_npm_openai_package_chats_streams_completes_embeds_and_sees_errors()
    {
        var start = new ProcessStartInfo("node", "client.mjs")
        {
            WorkingDirectory = ClientDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["CAMELID_URL"] = server.ApiBase.ToString().TrimEnd('/');
        start.Environment["CAMELID_MODEL"] = "tiny";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stderr);

        using var json = JsonDocument.Parse(await stdout);
        var r = json.RootElement;
        Assert.Contains("tiny", r.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var chat = r.GetProperty("chat");
        var stream = r.GetProperty("stream");
        Assert.Equal("length", chat.GetProperty("finish").GetString());
        Assert.Equal(20, chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(chat.GetProperty("text").GetString(), stream.GetProperty("text").GetString());
        Assert.Equal("assistant", stream.GetProperty("firstRole").GetString());
        Assert.Equal("length", stream.GetProperty("finish").GetString());
        Assert.Equal(20, stream.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.True(stream.GetProperty("chunks").GetInt32() > 5);
        Assert.Equal(8, r.GetProperty("completion").GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        int dim = server.Server.Registry.Find("tiny")!.Model.Config.Dim;
        Assert.Equal([dim, dim], r.GetProperty("embeddings").EnumerateArray().Select(e => e.GetInt32()));
        var error = r.GetProperty("error");
        Assert.Equal(404, error.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }
}

/// <summary>Skipped, with the command that fixes it, when Node.js or the npm `openai` package is not installed (.ci/run installs it).</summary>
public sealed class NodeClientFactAttribute : FactAttribute
{
    public NodeClientFactAttribute()
    {
        if (!File.Exists(Path.Combine(NodeClientTests.ClientDir, "node_modules", "openai", "package.json")))
            Skip = $"the npm openai package is not installed: run `npm ci --prefix {NodeClientTests.ClientDir}` (.ci/run does)";
    }
}
