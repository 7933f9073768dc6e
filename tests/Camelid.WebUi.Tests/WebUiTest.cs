using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Camelid.WebUi.Tests;

/// <summary>Opens chat pages in fresh browser contexts (empty localStorage) and closes them after each test.</summary>
public abstract class WebUiTest(WebUiFixture fixture) : IAsyncLifetime
{
    public static readonly ViewportSize Laptop = new() { Width = 1280, Height = 800 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    /// <summary>Screenshots kept with the test output, and copied where a person can look at them.</summary>
    public static string ArtifactsDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts");
    public static string SharedShotsDirectory { get; } = Path.Combine(Path.GetTempPath(), "webui-shots");

    readonly List<(IBrowserContext Context, IPage Page, string Name)> opened = [];

    protected WebUiFixture Fixture { get; } = fixture;

    protected async Task<ChatPage> OpenAsync(ViewportSize? viewport = null, Uri? server = null, [CallerMemberName] string test = "")
    {
        var context = await Fixture.Browser.NewContextAsync(new()
        {
            ViewportSize = viewport ?? Laptop,
            BaseURL = (server ?? Fixture.Server.BaseUrl).ToString(),
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        opened.Add((context, page, $"{GetType().Name}.{test}-{opened.Count + 1}"));
        await page.GotoAsync("/");
        return new ChatPage(page);
    }

    /// <summary>Saves a full-window PNG under the test output's artifacts folder and under /tmp/webui-shots.</summary>
    protected static async Task<string> SaveScreenshotAsync(IPage page, string fileName)
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        Directory.CreateDirectory(SharedShotsDirectory);
        string path = Path.Combine(ArtifactsDirectory, fileName);
        await page.ScreenshotAsync(new() { Path = path });
        File.Copy(path, Path.Combine(SharedShotsDirectory, fileName), overwrite: true);
        return path;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (context, page, name) in opened)
        {
            // The last state of every page is kept, so a failed assertion can be looked at afterwards.
            try
            {
                Directory.CreateDirectory(Path.Combine(ArtifactsDirectory, "last-state"));
                await page.ScreenshotAsync(new() { Path = Path.Combine(ArtifactsDirectory, "last-state", name + ".png"), Timeout = 5_000 });
            }
            catch (PlaywrightException) { }
            await context.CloseAsync();
        }
    }
}
