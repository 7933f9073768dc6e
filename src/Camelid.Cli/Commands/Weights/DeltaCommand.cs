using System.CommandLine;
using Camelid.Model.Conversion;

namespace Camelid.Cli.Commands.Weights;

/// <summary>`camelid delta make|apply`: FastChat's delta-weights release flow, exact to the bit.</summary>
static class DeltaCommand
{
    public static Command Create() => new("delta", "Delta weights (target − base), as Vicuna was released; apply rebuilds the target bit for bit")
    {
        Make(),
        Apply(),
    };

    static Command Make()
    {
        var baseModel = new Option<string>("--base") { Description = "The base model (any format the engine reads)", Required = true };
        var target = new Option<string>("--target") { Description = "The fine-tuned model (F32/F16/BF16; GGUF, Hugging Face folder or llama2.c)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The delta folder to write", Required = true };
        var threads = CommonOptions.Threads();
        var command = new Command("make", "Write target − base as a delta folder, with the base's checksum") { baseModel, target, output, threads };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            DeltaResult? made = null;
            int code = ConversionReporting.Run(
                options => (made = ModelDelta.Make(parse.GetValue(baseModel)!, parse.GetValue(target)!, parse.GetValue(output)!, options)).Written,
                parse.GetValue(threads));
            if (made != null)
                Console.WriteLine($"base sha256 {made.BaseSha256}; {made.Corrections} element(s) kept as exact corrections");
            return Task.FromResult(code);
        }));
        return command;
    }

    static Command Apply()
    {
        var baseModel = new Option<string>("--base") { Description = "The base model the delta was made from", Required = true };
        var delta = new Option<string>("--delta") { Description = "The delta folder (from `camelid delta make`)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the target, in its original format (a file, or a folder for Hugging Face)", Required = true };
        var threads = CommonOptions.Threads();
        var command = new Command("apply", "Rebuild the target from the base and a delta (the base's checksum is verified first)") { baseModel, delta, output, threads };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () => Task.FromResult(ConversionReporting.Run(
            options => ModelDelta.Apply(parse.GetValue(baseModel)!, parse.GetValue(delta)!, parse.GetValue(output)!, options),
            parse.GetValue(threads)))));
        return command;
    }
}
