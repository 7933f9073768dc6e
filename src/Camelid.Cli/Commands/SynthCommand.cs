using System.CommandLine;
using Camelid.Model.Conversion;

namespace Camelid.Cli.Commands;

/// <summary>`camelid synth --shape SHAPE --type TYPE --out FILE [--seed S]`: a random-weight model of a standard shape.</summary>
static class SynthCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape")
        {
            Description = $"Model shape: {string.Join(", ", ModelShapes.Named.Keys)}, or a JSON file with config.json fields " +
                          "(hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, vocab_size, ...)",
            Required = true,
        };
        var type = new Option<string>("--type") { Description = $"Weight type: {string.Join(", ", LlamaFileTypes.Names.Keys)}", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The .gguf file to write", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed; the same seed gives the same file (default 0)" };
        var threads = CommonOptions.Threads();
        var command = new Command("synth", "Write a random-weight LLaMA GGUF of a standard shape with a real-looking vocabulary (for benchmarks; no download)")
        {
            shape, type, output, seed, threads,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            var modelShape = ModelShapes.Resolve(parse.GetValue(shape)!);
            var fileType = LlamaFileTypes.Parse(parse.GetValue(type)!);
            string path = parse.GetValue(output)!;
            return Task.FromResult(ConversionReporting.Run(
                options => ModelSynthesizer.Synthesize(modelShape, fileType, parse.GetValue(seed), path, options), parse.GetValue(threads)));
        }));
        return command;
    }
}
