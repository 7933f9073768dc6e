using System.CommandLine;
using Camelid.Cli;
using Camelid.Cli.Commands;
using Camelid.Cli.Commands.Data;

var root = new RootCommand("Camelid: run, serve, fine-tune and evaluate LLaMA-family models in pure .NET");
root.Options.Add(CommonOptions.Verbose);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(TokenizerCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(SynthCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(Camelid.Cli.Commands.Weights.ConvertCommand.Create());
root.Subcommands.Add(Camelid.Cli.Commands.Weights.DeltaCommand.Create());
root.Subcommands.Add(Camelid.Cli.Commands.Weights.MergeLoraCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(Camelid.Cli.Commands.Training.FinetuneCommand.Create());
root.Subcommands.Add(Camelid.Cli.Commands.Training.PretrainCommand.Create());
root.Subcommands.Add(RecipeCommand.Create());
root.Subcommands.Add(Camelid.Cli.Commands.Evaluation.EvalCommand.Create());

// Commands handle Ctrl+C themselves (chat: first stops the answer, second exits).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await root.Parse(args).InvokeAsync(invocation);
