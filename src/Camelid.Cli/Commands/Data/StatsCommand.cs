using System.CommandLine;
using System.Text.Json;
using Camelid.Data.Conversations;

namespace Camelid.Cli.Commands.Data;

/// <summary>
/// `camelid data stats FILE [--model MODEL | --tokenizer FILE] [--template NAME] [--bins 20] [--png FILE] [--json]`:
/// counts, turns per conversation, length summaries and histogram (see <see cref="ConversationStatisticsBuilder"/>).
/// </summary>
static class StatsCommand
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Alpaca, ShareGPT or OpenAI messages data (JSON or JSON lines)" };
        var model = DataOptions.Model();
        var tokenizer = DataOptions.Tokenizer();
        var template = DataOptions.Template("none");
        var bins = new Option<int>("--bins") { Description = "Histogram bins (at most; the width is rounded to 1, 2 or 5 × 10^k)", DefaultValueFactory = _ => 20 };
        var png = new Option<string?>("--png") { Description = "Also draw the length histogram into this PNG file" };
        var json = new Option<bool>("--json") { Description = "Print the statistics as JSON instead of text" };
        var command = new Command("stats", "Counts, turns and length distribution of a conversation or instruction file; optional PNG histogram")
        {
            file, model, tokenizer, template, bins, png, json,
        };
        command.SetAction((parse, cancellation) => CommonOptions.RunAsync(parse, async () =>
        {
            int binCount = parse.GetValue(bins);
            if (binCount <= 0)
                throw new ArgumentException($"--bins must be positive, not {binCount}");
            string path = parse.GetValue(file)!;
            ConversationTokenCounter? counter = parse.GetValue(model) != null || parse.GetValue(tokenizer) != null
                ? new ConversationTokenCounter(DataTokenizer.Load(parse.GetValue(model), parse.GetValue(tokenizer)), DataTokenizer.Template(parse.GetValue(template)!))
                : null;
            var stats = await ConversationStatisticsBuilder.ComputeAsync(path, counter, binCount, cancellation);
            if (parse.GetValue(png) is { } pngPath)
                HistogramPng.Write(stats, pngPath, $"{Path.GetFileName(path)}: {stats.Records} records");
            using var stdout = CommonOptions.StandardOutput();
            stdout.Write(parse.GetValue(json) ? JsonSerializer.Serialize(stats, Json) + "\n" : StatisticsReport.Format(stats, path));
            return 0;
        }));
        return command;
    }
}
