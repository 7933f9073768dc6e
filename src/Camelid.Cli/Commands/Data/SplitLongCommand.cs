using System.CommandLine;
using System.Diagnostics;
using Camelid.Data.Conversations;

namespace Camelid.Cli.Commands.Data;

/// <summary>
/// `camelid data split-long IN OUT (--model MODEL | --tokenizer FILE) [--max-len 2048] [--template vicuna] [--overlong drop|truncate]`:
/// conversations cut at round boundaries into pieces that fit (see <see cref="ConversationSplitter"/>).
/// </summary>
static class SplitLongCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "Conversations: ShareGPT (or Alpaca / messages) JSON or JSON lines" };
        var output = new Argument<string>("OUT") { Description = "ShareGPT pieces (.jsonl: JSON lines, else a JSON array)" };
        var model = DataOptions.Model();
        var tokenizer = DataOptions.Tokenizer();
        var maxLen = new Option<int>("--max-len") { Description = "Token budget of one piece, chat template included", DefaultValueFactory = _ => 2048 };
        var template = DataOptions.Template("vicuna");
        var overlong = new Option<string>("--overlong")
        {
            Description = "A single round longer than the limit: drop it, or truncate its answer to fit",
            DefaultValueFactory = _ => "drop",
        }.AcceptOnlyFromAmong("drop", "truncate");
        var command = new Command("split-long", "Split long conversations into pieces that fit the context, counting tokens with the model's tokenizer")
        {
            input, output, model, tokenizer, maxLen, template, overlong,
        };
        command.SetAction((parse, cancellation) => CommonOptions.RunAsync(parse, async () =>
        {
            int max = parse.GetValue(maxLen);
            if (max <= 0)
                throw new ArgumentException($"--max-len must be positive, not {max}");
            var counter = new ConversationTokenCounter(DataTokenizer.Load(parse.GetValue(model), parse.GetValue(tokenizer)),
                                                       DataTokenizer.Template(parse.GetValue(template)!));
            var splitter = new ConversationSplitter(counter, new SplitOptions
            {
                MaxTokens = max,
                Overlong = parse.GetValue(overlong) == "truncate" ? OverlongRound.Truncate : OverlongRound.Drop,
            });
            var clock = Stopwatch.StartNew();
            var report = await ShareGptSplitting.RunAsync(parse.GetValue(input)!, parse.GetValue(output)!, splitter,
                                                          DataProgress.Reporter("split"), cancellation);
            DataProgress.Done();
            using var stdout = CommonOptions.StandardOutput();
            stdout.Write(report.Format("conversations", "pieces"));
            stdout.WriteLine($"template: {counter.Template?.Name ?? "none"} (prefix {counter.Prefix(null)} tokens, {counter.RoundOverhead} per round), max {max} tokens");
            stdout.WriteLine($"time: {clock.Elapsed.TotalSeconds:F2} s");
            return 0;
        }));
        return command;
    }
}
