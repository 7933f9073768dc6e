using System.CommandLine;
using Camelid.Model.Conversion;

namespace Camelid.Cli.Commands.Weights;

/// <summary>`camelid convert IN --to gguf|hf|llama2c [--type T] --out OUT`: rewrite a model in another format, tokenizer included.</summary>
static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "The model: a .gguf file, a Hugging Face folder or a llama2.c .bin checkpoint" };
        var to = new Option<string>("--to") { Description = "Output format: gguf, hf (a Hugging Face folder) or llama2c (version 0, with tok<vocab>.bin beside it)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The file (gguf, llama2c) or folder (hf) to write", Required = true };
        var type = new Option<string?>("--type")
        {
            Description = $"Weight type: {string.Join(", ", LlamaFileTypes.Names.Keys)} (hf: f32/f16/bf16; llama2c: f32). Default: each tensor keeps its type where the format can hold it",
        };
        var tokenizer = CommonOptions.Tokenizer();
        var threads = CommonOptions.Threads();
        var command = new Command("convert", "Convert a model between GGUF, Hugging Face and llama2.c, tokenizer included")
        {
            input, to, output, type, tokenizer, threads,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            var format = ModelConverter.ParseFormat(parse.GetValue(to)!);
            LlamaFileType? fileType = parse.GetValue(type) is { } t ? LlamaFileTypes.Parse(t) : null;
            string from = parse.GetValue(input)!, into = parse.GetValue(output)!;
            return Task.FromResult(ConversionReporting.Run(
                options => ModelConverter.Convert(from, into, format, fileType, parse.GetValue(tokenizer), options,
                    note => Console.Error.WriteLine($"note: {note}")),
                parse.GetValue(threads)));
        }));
        return command;
    }
}
