using System.CommandLine;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Model.Conversion;

namespace Camelid.Cli.Commands.Weights;

/// <summary>
/// `camelid merge-lora --model BASE --lora DIR[:SCALE] … --out OUT`: W += scale·(α/r)·B·A for every adapted matrix, written as
/// GGUF (OUT.gguf), a Hugging Face folder or a llama2.c checkpoint, tokenizer included. Float weights keep their type; a
/// quantized base is re-quantized after the merge (with a warning: it rounds again).
/// </summary>
static class MergeLoraCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var lora = CommonOptions.Lora();
        lora.Required = true;
        lora.Description = "A LoRA adapter (PEFT folder) to merge, optionally with a scale: DIR or DIR:SCALE (repeatable)";
        var output = new Option<string>("--out", "-o") { Description = "Where to write: FILE.gguf, FILE.bin (llama2.c) or a folder (Hugging Face)", Required = true };
        var to = new Option<string?>("--to") { Description = "Output format when --out does not tell: gguf, hf or llama2c" };
        var type = new Option<string?>("--type")
        {
            Description = $"Weight type of the merged model: {string.Join(", ", LlamaFileTypes.Names.Keys)}. Default: each tensor keeps its type",
        };
        var tokenizer = CommonOptions.Tokenizer();
        var threads = CommonOptions.Threads();
        var command = new Command("merge-lora", "Merge LoRA adapters into a model's weights and write the merged model")
        {
            model, lora, output, to, type, tokenizer, threads,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            string from = parse.GetValue(model)!, into = parse.GetValue(output)!;
            var format = parse.GetValue(to) is { } named ? ModelConverter.ParseFormat(named) : FormatOf(into);
            LlamaFileType? fileType = parse.GetValue(type) is { } t ? LlamaFileTypes.Parse(t) : null;
            var references = CommonOptions.Adapters(parse, lora);
            LlamaConfig config;
            using (var source = ModelSource.Open(from, parse.GetValue(tokenizer)))
                config = source.Config;
            var adapters = references.Select(r => (LoraAdapter.Load(r.Path, config), r.Scale)).ToList();
            foreach (var ((adapter, scale), reference) in adapters.Zip(references))
                Console.Error.WriteLine($"merging {reference.Path}: r={adapter.Config.Rank}, {adapter.Matrices.Count} matrices " +
                                        $"({string.Join(",", adapter.Config.Targets.Select(m => m.ShortName()))}), scale {scale} × α/r");
            return Task.FromResult(ConversionReporting.Run(
                options => ModelConverter.Convert(from, into, format, fileType, parse.GetValue(tokenizer), options,
                    note => Console.Error.WriteLine($"note: {note}"), adapters),
                parse.GetValue(threads)));
        }));
        return command;
    }

    static ModelFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".gguf" => ModelFormat.Gguf,
        ".bin" => ModelFormat.Llama2c,
        "" => ModelFormat.HuggingFace,
        var other => throw new ArgumentException($"--out {path}: cannot tell the format from '{other}'; pass --to gguf|hf|llama2c"),
    };
}
