using System.CommandLine;
using Camelid.Training.Recipes;

namespace Camelid.Cli.Commands;

/// <summary>`camelid recipe nano --out DIR [--quick]`: Camelid-Nano from nothing — data, tokenizer, pretraining, SFT, evaluation.</summary>
static class RecipeCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Folder for the data, tokenizer, runs, the model and its card", Required = true };
        var quick = new Option<bool>("--quick") { Description = "A tiny model in a few minutes (for tests): the same steps with smaller data and model" };
        var seed = new Option<int>("--seed") { Description = "Seed of the data, the initialisation and the shuffles", DefaultValueFactory = _ => 1 };
        var threads = CommonOptions.Threads();
        var nano = new Command("nano", "Make Camelid-Nano: generate data, train a tokenizer, pretrain, fine-tune, evaluate, write GGUF + model card")
        {
            output, quick, seed, threads,
        };
        nano.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            int t = parse.GetValue(threads) is > 0 and var n ? n : throw new ArgumentException("--threads must be at least 1");
            string dir = parse.GetValue(output)!;
            bool isQuick = parse.GetValue(quick);
            string command = $"camelid recipe nano --out {dir}{(isQuick ? " --quick" : "")} --seed {parse.GetValue(seed)} --threads {t}";
            var recipe = new NanoRecipe(isQuick ? NanoRecipeSize.Quick : NanoRecipeSize.Full, parse.GetValue(seed), t, dir, line => Console.Error.WriteLine(line));

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                if (cancel.IsCancellationRequested)
                    return;
                e.Cancel = true;
                cancel.Cancel();
                Console.Error.WriteLine("stopping after this training step and saving a checkpoint (Ctrl+C again to quit at once) ...");
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var result = recipe.Run(command, cancel.Token);
                if (result == null)
                {
                    Console.Error.WriteLine($"interrupted; run the same command again to continue from {dir}");
                    return Task.FromResult(130);
                }
                Console.Error.WriteLine($"held-out exact match: {result.Base.Accuracy:P0} before fine-tuning, {result.Tuned.Accuracy:P0} after");
                Console.Error.WriteLine($"try it: camelid chat -m {result.ModelPath}");
                return Task.FromResult(0);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }));
        return new Command("recipe", "End-to-end recipes that make a model with Camelid's own pipeline") { nano };
    }
}
