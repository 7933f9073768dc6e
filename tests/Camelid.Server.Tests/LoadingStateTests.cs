using System.Diagnostics;
using System.Net;
using System.Text;
using Camelid.Server.Hosting;
using Camelid.Tests;

namespace Camelid.Server.Tests;

/// <summary>
/// The server listens before its models are loaded. A named pipe as the "model file" holds loading open until
/// the test writes to it, so the loading state is observed for real, without hooks in the server.
/// </summary>
public class LoadingStateTests
{
    [Fact]
    public async Task Health_is_503_while_loading_and_500_with_the_reason_when_loading_fails()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return; // named pipes as files are a POSIX feature
        string dir = TestPaths.NewTempDir("loading");
        string fifo = Path.Combine(dir, "model.gguf");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
            await mkfifo.WaitForExitAsync();

        await using var server = await CamelidServer.StartAsync(new ServeOptions { Models = [new ModelSpec(fifo, "slow")], Port = 0 }, _ => { });
        using var http = new HttpClient { BaseAddress = server.Address };
        using (var health = await http.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("loading", await health.Content.ReadAsStringAsync());
        }
        using (var chat = await http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"slow","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, chat.StatusCode);
            Assert.Contains("\"code\":\"model_loading\"", await chat.Content.ReadAsStringAsync());
            Assert.NotNull(chat.Headers.RetryAfter);
        }

        // Feed the loader a file that is not a model: loading fails, and the server says why.
        await File.WriteAllBytesAsync(fifo, Encoding.ASCII.GetBytes("GGUF but not really a model file"));
        await Assert.ThrowsAnyAsync<Exception>(() => server.Loaded.WaitAsync(TimeSpan.FromSeconds(30)));
        using var failed = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Contains("\"status\":\"error\"", await failed.Content.ReadAsStringAsync());
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
