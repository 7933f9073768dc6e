using System.CommandLine;
using Camelid.Model;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training.Model;

namespace Camelid.Cli.Commands.Training;

/// <summary>`camelid finetune`: supervised fine-tuning of every weight (Alpaca, Vicuna), loss on the responses only.</summary>
static class FinetuneCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var template = new Option<string>("--template")
        {
            Description = $"Chat template conversations are rendered with: {string.Join(", ", ChatTemplates.Names)}, or auto (from the model)",
            DefaultValueFactory = _ => "vicuna",
        };
        var args = new TrainingArguments(TrainingDefaults.FineTuning);
        var command = new Command("finetune", "Fine-tune all weights of a model on instruction (Alpaca) or chat (ShareGPT, messages) data") { model, tokenizer, template };
        args.AddTo(command);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            string path = parse.GetValue(model)!;
            LlamaParameters parameters;
            Camelid.Tokenization.Tokenizer tok;
            ChatTemplate chosen;
            using (var m = LlamaModel.Load(path, new ModelLoadOptions { TokenizerPath = parse.GetValue(tokenizer), Threads = 1 }))
            {
                tok = m.RequireTokenizer();
                string name = parse.GetValue(template)!;
                chosen = name == "auto" ? ChatTemplates.Detect(m.ChatTemplateSource, m.Name).Template : ChatTemplates.Get(name);
                Console.Error.WriteLine($"loading {path} into f32 for training ({m.Format}, {m.ParameterCount / 1e6:F1}M parameters); chat template {chosen.Name}");
                parameters = LlamaParameters.FromModel(m);
            }
            return Task.FromResult(TrainingRun.Execute(parse, args, parameters, tok, chosen,
                $"fine-tuned by camelid finetune from {Path.GetFileName(Path.GetFullPath(path))}"));
        }));
        return command;
    }
}
