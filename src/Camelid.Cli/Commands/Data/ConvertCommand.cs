using System.CommandLine;
using Camelid.Data.Conversations;

namespace Camelid.Cli.Commands.Data;

/// <summary>`camelid data convert IN OUT --to alpaca|sharegpt|messages [--multi-turn first|drop]` (see <see cref="FormatConversion"/>).</summary>
static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "Alpaca, ShareGPT or OpenAI messages data (JSON or JSON lines; the format of each record is recognised)" };
        var output = new Argument<string>("OUT") { Description = "Output file (.jsonl: JSON lines, else a JSON array)" };
        var to = new Option<string>("--to") { Description = "Output format", Required = true }.AcceptOnlyFromAmong("alpaca", "sharegpt", "messages");
        var multiTurn = new Option<string>("--multi-turn")
        {
            Description = "To alpaca: keep the first exchange of a longer conversation, or drop the conversation",
            DefaultValueFactory = _ => "first",
        }.AcceptOnlyFromAmong("first", "drop");
        var command = new Command("convert", "Convert between Alpaca, ShareGPT and OpenAI messages formats") { input, output, to, multiTurn };
        command.SetAction((parse, cancellation) => CommonOptions.RunAsync(parse, async () =>
        {
            var format = parse.GetValue(to) switch
            {
                "alpaca" => DataFormat.Alpaca,
                "messages" => DataFormat.Messages,
                _ => DataFormat.ShareGpt,
            };
            var report = await FormatConverting.RunAsync(parse.GetValue(input)!, parse.GetValue(output)!, format,
                parse.GetValue(multiTurn) == "drop" ? MultiTurnToAlpaca.Drop : MultiTurnToAlpaca.First, cancellation);
            using var stdout = CommonOptions.StandardOutput();
            stdout.Write(report.Format("records", $"{parse.GetValue(to)} records"));
            return 0;
        }));
        return command;
    }
}
