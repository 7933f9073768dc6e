using System.CommandLine;

namespace Camelid.Cli.Commands.Data;

/// <summary>`camelid data …`: making instruction and conversation data (Self-Instruct / Alpaca, ShareGPT tools).</summary>
static class DataCommand
{
    public static Command Create()
    {
        var data = new Command("data", "Make and prepare training data: Self-Instruct / Alpaca generation, ShareGPT cleaning, splitting, conversion, statistics");
        // One line per subcommand, each defined in its own file in this folder.
        data.Subcommands.Add(SelfInstructCommand.Create());
        data.Subcommands.Add(CleanShareGptCommand.Create());
        data.Subcommands.Add(SplitLongCommand.Create());
        data.Subcommands.Add(ConvertCommand.Create());
        data.Subcommands.Add(StatsCommand.Create());
        data.Subcommands.Add(NanoDataCommand.Create());
        return data;
    }
}
