using System.Diagnostics;
using Camelid.Tests;
using Microsoft.Playwright;

namespace Camelid.WebUi.Tests;

[CollectionDefinition(Name)]
public sealed class WebUiCollection : ICollectionFixture<WebUiFixture>
{
    // One collection, so the tests run one after another: each answer streams at full speed on a 2-core
    // machine, and timing-based checks (stop, tokens/s) are not disturbed by a neighbour's generation.
    public const string Name = "web ui";
}

/// <summary>A random-weight model, one `camelid serve` on it, and one headless Chromium, shared by the tests.</summary>
public sealed class WebUiFixture : IAsyncLifetime
{
    readonly string workDirectory = TestPaths.NewTempDir("webui");
    IPlaywright? playwright;

    public string ModelPath { get; private set; } = "";
    public CamelidServer Server { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!Chromium.IsInstalled)
            return; // every test is skipped by [ChromiumFact]

        ModelPath = SynthesizeModel(workDirectory);
        Server = await CamelidServer.StartAsync(ModelPath);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(Chromium.LaunchOptions);
        // Answers are generated on the CPU of a shared machine; give them time before an assertion gives up.
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
        try { Directory.Delete(workDirectory, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>
    /// Writes a stories15M-shaped model with random weights. Its context is stretched to 2048 tokens so an
    /// answer can run for many seconds: random weights almost never emit end-of-text, so every answer runs
    /// to max tokens, and "stop a long answer" needs one that is still going when Stop is clicked.
    /// </summary>
    static string SynthesizeModel(string directory)
    {
        string shape = Path.Combine(directory, "stories15m-2k.json");
        File.WriteAllText(shape, """
            {
              "hidden_size": 288, "intermediate_size": 768, "num_hidden_layers": 6,
              "num_attention_heads": 6, "num_key_value_heads": 6, "vocab_size": 32000,
              "max_position_embeddings": 2048, "tie_word_embeddings": true
            }
            """);
        string model = Path.Combine(directory, "model.gguf");
        RunCamelid("synth", "--shape", shape, "--type", "f32", "--out", model);
        return model;
    }

    static void RunCamelid(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "camelid.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"camelid {string.Join(' ', arguments)} did not finish in 120 s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"camelid {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }
}
