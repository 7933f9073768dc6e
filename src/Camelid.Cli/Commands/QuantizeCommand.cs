using System.CommandLine;
using Camelid.Model.Conversion;

namespace Camelid.Cli.Commands;

/// <summary>`camelid quantize IN.gguf OUT.gguf --type TYPE`: re-quantize a GGUF model with llama-quantize's type rules.</summary>
static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "The GGUF model to read (F32/F16/BF16 best; quantized tensors are requantized with a warning)" };
        var output = new Argument<string>("OUT") { Description = "The GGUF file to write (not the input)" };
        var type = new Option<string>("--type") { Description = $"Target type: {string.Join(", ", LlamaFileTypes.Names.Keys)}", Required = true };
        var threads = CommonOptions.Threads();
        var command = new Command("quantize", "Convert a GGUF model to another weight type, bit-compatible with llama-quantize")
        {
            input, output, type, threads,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            var fileType = LlamaFileTypes.Parse(parse.GetValue(type)!);
            string from = parse.GetValue(input)!, to = parse.GetValue(output)!;
            return Task.FromResult(ConversionReporting.Run(
                options => GgufQuantizer.Quantize(from, to, fileType, options, warning => Console.Error.WriteLine($"warning: {warning}")),
                parse.GetValue(threads)));
        }));
        return command;
    }
}
