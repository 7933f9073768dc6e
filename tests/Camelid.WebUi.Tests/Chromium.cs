using Microsoft.Playwright;

namespace Camelid.WebUi.Tests;

/// <summary>
/// The system's Chromium (Debian's `chromium` package). Playwright's own browser download is not used: it
/// needs the internet, and these tests must run offline.
/// </summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static BrowserTypeLaunchOptions LaunchOptions => new()
    {
        ExecutablePath = ExecutablePath,
        Headless = true,
        // No sandbox because CI runs as root; the rest keeps Chromium from reaching for the network on its own.
        Args =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    };
}

/// <summary>A fact that is skipped, with the reason, when there is no Chromium to drive.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!Chromium.IsInstalled)
            Skip = $"{Chromium.ExecutablePath} not found: install Debian's chromium package (apt-get install -y chromium) to run the web UI tests";
    }
}
