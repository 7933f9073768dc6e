using System.CommandLine;
using System.Diagnostics;
using Camelid.Data.Conversations;

namespace Camelid.Cli.Commands.Data;

/// <summary>
/// `camelid data clean-sharegpt IN OUT [--lang en,zh] [--blocklist FILE] [--no-dedupe]`: HTML to Markdown, broken
/// and duplicate conversations dropped (see <see cref="ConversationCleaner"/>). Summary on stdout, progress on stderr.
/// </summary>
static class CleanShareGptCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "ShareGPT data: a JSON array or JSON lines" };
        var output = new Argument<string>("OUT") { Description = "Cleaned ShareGPT data (.jsonl: JSON lines, else a JSON array)" };
        var lang = new Option<string?>("--lang") { Description = "Keep only these languages, comma-separated ISO codes (en, zh, ja, de, …); see docs/conversations.md for how the language is guessed" };
        var blocklist = new Option<string?>("--blocklist") { Description = "File of phrases, one per line ('#' starts a comment): drop conversations containing any (case-insensitive)" };
        var noDedupe = new Option<bool>("--no-dedupe") { Description = "Keep duplicate ids and duplicate contents" };
        var command = new Command("clean-sharegpt", "Clean ShareGPT conversations: HTML to Markdown, drop broken, unalternating and duplicate ones")
        {
            input, output, lang, blocklist, noDedupe,
        };
        command.SetAction((parse, cancellation) => CommonOptions.RunAsync(parse, async () =>
        {
            var options = new CleanOptions
            {
                KeepLanguages = parse.GetValue(lang)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
                BlockedPhrases = parse.GetValue(blocklist) is { } file ? ReadBlocklist(file) : [],
                Deduplicate = !parse.GetValue(noDedupe),
            };
            var clock = Stopwatch.StartNew();
            var report = await ShareGptCleaning.RunAsync(parse.GetValue(input)!, parse.GetValue(output)!, options,
                                                         DataProgress.Reporter("cleaned"), cancellation);
            DataProgress.Done();
            using var stdout = CommonOptions.StandardOutput();
            stdout.Write(report.Format("conversations", "conversations"));
            stdout.WriteLine($"time: {clock.Elapsed.TotalSeconds:F2} s");
            return 0;
        }));
        return command;
    }

    static string[] ReadBlocklist(string path)
    {
        if (!File.Exists(path))
            throw new IOException($"{path}: blocklist file not found");
        return File.ReadLines(path).Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).ToArray();
    }
}
