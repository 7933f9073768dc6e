namespace Camelid.Cli;

/// <summary>
/// Camelid-Nano, the small chat model Camelid makes with its own pipeline (`camelid recipe nano`) and ships in
/// models/camelid-nano.gguf, copied beside the executable: what generate, chat and serve use without --model.
/// </summary>
static class ShippedModel
{
    public const string FileName = "camelid-nano.gguf";

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "models", FileName);

    /// <summary>The path to load, with a clear message when it is the shipped model and it is missing.</summary>
    public static string Require(string path) =>
        path == Path && !File.Exists(path)
            ? throw new FileNotFoundException($"no --model given, and the shipped Camelid-Nano model is not at {path}; " +
                                              "pass --model FILE, or rebuild it with `camelid recipe nano --out runs/nano`")
            : path;
}
