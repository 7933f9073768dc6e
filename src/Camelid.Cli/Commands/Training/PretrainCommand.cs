using System.CommandLine;
using Camelid.Model;
using Camelid.Model.Conversion;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training.Data;
using Camelid.Training.Model;

namespace Camelid.Cli.Commands.Training;

/// <summary>`camelid pretrain`: a LLaMA model from random initialisation on plain text (llama2.c's TinyStories recipe).</summary>
static class PretrainCommand
{
    /// <summary>Short names for the llama2.c shapes small enough to pretrain on a CPU.</summary>
    static readonly Dictionary<string, string> Sizes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["nano"] = "stories260k", // dim 64, 5 layers, 8 heads / 4 kv heads
        ["tiny"] = "stories15m",  // dim 288, 6 layers, 6 heads
    };

    public static Command Create()
    {
        var config = new Option<string?>("--config")
        {
            Description = "Model shape: nano (stories260K), tiny (stories15M), any `camelid synth --shape` name, or a Hugging Face config.json",
        };
        var init = new Option<string?>("--init")
        {
            Description = "Continue pretraining this model instead of starting from random weights; a --tokenizer with more tokens " +
                          "(e.g. from `camelid tokenizer extend`) grows its embedding, new rows the mean of the existing ones",
        };
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "Tokenizer: a SentencePiece tokenizer.model, a llama2.c tokenizer.bin, a GGUF file or a model folder; sets the vocabulary size",
            Required = true,
        };
        var args = new TrainingArguments(TrainingDefaults.Pretraining);
        var command = new Command("pretrain", "Train a LLaMA-architecture model on plain text, from random weights or continuing a model") { config, init, tokenizer };
        args.AddTo(command);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            string tokenizerPath = parse.GetValue(tokenizer)!;
            var tok = tokenizerPath.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || tokenizerPath.EndsWith(".model", StringComparison.OrdinalIgnoreCase)
                ? LlamaModel.LoadTokenizerFile(tokenizerPath)
                : LlamaModel.LoadTokenizer(tokenizerPath);
            if (parse.GetValue(init) is { } initPath)
            {
                if (parse.GetValue(config) != null)
                    throw new ArgumentException("--config and --init exclude each other: a continued model keeps its own shape");
                LlamaParameters continued;
                using (var m = LlamaModel.Load(initPath, new ModelLoadOptions { Threads = 1 }))
                {
                    continued = LlamaParameters.FromModel(m);
                    Console.Error.WriteLine($"continuing {initPath} ({m.ParameterCount / 1e6:F1}M parameters, vocab {m.Config.VocabSize})");
                }
                if (tok.VocabSize != continued.Config.VocabSize)
                    Console.Error.WriteLine($"resizing the embedding{(continued.TiedOutput ? "" : " and the head")} from {continued.Config.VocabSize} to {tok.VocabSize} tokens (new rows: the mean of the existing ones)");
                continued = continued.WithVocabulary(tok.VocabSize);
                return Task.FromResult(TrainingRun.Execute(parse, args, continued, tok, ChatTemplates.Get("vicuna"),
                    $"continued pretraining of {Path.GetFileName(Path.GetFullPath(initPath))} by camelid pretrain", TrainingDataFormat.Text));
            }
            string name = parse.GetValue(config) ?? throw new ArgumentException("pretrain needs --config SHAPE (from random weights) or --init MODEL (continue a model)");
            var shape = ModelShapes.Resolve(Sizes.GetValueOrDefault(name, name));
            var c = shape.Config with { VocabSize = tok.VocabSize, TrainedContextLength = args.MaxLength(parse) };
            c.Validate(name);
            Console.Error.WriteLine($"pretraining a {shape.Name} shape (dim {c.Dim}, {c.Layers} layers, {c.Heads}/{c.KvHeads} heads, hidden {c.HiddenDim}, " +
                                    $"vocab {c.VocabSize}{(shape.TiedEmbeddings ? ", tied head" : "")}) from random weights");
            var parameters = LlamaParameters.Random(c, unchecked((int)args.Seed(parse)), shape.TiedEmbeddings);
            return Task.FromResult(TrainingRun.Execute(parse, args, parameters, tok, ChatTemplates.Get("vicuna"),
                $"pretrained from random weights by camelid pretrain ({shape.Name} shape)", TrainingDataFormat.Text));
        }));
        return command;
    }
}
