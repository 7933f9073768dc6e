using System.CommandLine;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training.Lora;
using Camelid.Training.Model;

namespace Camelid.Cli.Commands.Training;

/// <summary>
/// `camelid finetune`: supervised fine-tuning (Alpaca, Vicuna), loss on the responses only, of every weight (--method full)
/// or of LoRA adapters over a frozen f32 base (lora) or a frozen 4-bit base (qlora).
/// </summary>
static class FinetuneCommand
{
    /// <summary>LoRA's learning rate when --lr is not given: alpaca-lora's 3e-4 (full fine-tuning's 2e-5 barely moves adapters).</summary>
    const double LoraLearningRate = 3e-4;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var template = new Option<string>("--template")
        {
            Description = $"Chat template conversations are rendered with: {string.Join(", ", ChatTemplates.Names)}, or auto (from the model)",
            DefaultValueFactory = _ => "vicuna",
        };
        var method = new Option<string>("--method") { Description = "full (every weight) | lora (adapters over a frozen f32 base) | qlora (adapters over a frozen 4-bit base)", DefaultValueFactory = _ => "full" };
        var rank = new Option<int>("--lora-r") { Description = "LoRA rank r", DefaultValueFactory = _ => 8 };
        var alpha = new Option<double>("--lora-alpha") { Description = "LoRA alpha: the update is scaled by alpha / r", DefaultValueFactory = _ => 16 };
        var dropout = new Option<double>("--lora-dropout") { Description = "Dropout on the adapters' input while training", DefaultValueFactory = _ => 0.05 };
        var targets = new Option<string>("--lora-targets") { Description = "Matrices that get adapters: any of q,k,v,o,gate,up,down, or all", DefaultValueFactory = _ => "q,v" };
        var rsLora = new Option<bool>("--rslora") { Description = "rsLoRA scaling alpha / sqrt(r) instead of alpha / r" };
        var qloraType = new Option<string>("--qlora-type") { Description = "How qlora stores the frozen base: nf4 (QLoRA's, block 64, double-quantized scales) | q4_0 | q8_0", DefaultValueFactory = _ => "nf4" };
        var args = new TrainingArguments(TrainingDefaults.FineTuning);
        var command = new Command("finetune", "Fine-tune a model on instruction (Alpaca) or chat (ShareGPT, messages) data: all weights, LoRA or QLoRA")
        {
            model, tokenizer, template, method, rank, alpha, dropout, targets, rsLora, qloraType,
        };
        args.AddTo(command);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            string path = parse.GetValue(model)!;
            string how = parse.GetValue(method)!.ToLowerInvariant();
            if (how is "lora" or "qlora")
                return Task.FromResult(Adapters(parse, args, path, parse.GetValue(tokenizer), parse.GetValue(template)!, how == "qlora", new LoraConfig
                {
                    Rank = parse.GetValue(rank),
                    Alpha = parse.GetValue(alpha),
                    Dropout = parse.GetValue(dropout),
                    Targets = ParseTargets(parse.GetValue(targets)!),
                    UseRsLora = parse.GetValue(rsLora),
                    BaseModel = path,
                }, QuantizedBase.ParseType(parse.GetValue(qloraType)!)));
            if (how != "full")
                throw new ArgumentException($"--method must be full, lora or qlora, not '{how}'");
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

    static IReadOnlyList<BlockMatrix> ParseTargets(string text)
    {
        try
        {
            return BlockMatrices.ParseList(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException("--lora-targets: " + e.Message);
        }
    }

    /// <summary>LoRA or QLoRA: adapters over a frozen base; the run ends with a PEFT adapter folder in RUN/adapter.</summary>
    static int Adapters(System.CommandLine.ParseResult parse, TrainingArguments args, string path, string? tokenizerPath, string templateName,
        bool quantized, LoraConfig lora, FrozenType frozenType)
    {
        lora.Validate();
        TrainableModel frozen;
        Camelid.Tokenization.Tokenizer tok;
        ChatTemplate chosen;
        using (var m = LlamaModel.Load(path, new ModelLoadOptions { TokenizerPath = tokenizerPath, Threads = 1 }))
        {
            tok = m.RequireTokenizer();
            chosen = templateName == "auto" ? ChatTemplates.Detect(m.ChatTemplateSource, m.Name).Template : ChatTemplates.Get(templateName);
            Console.Error.WriteLine($"loading {path} ({m.Format}, {m.ParameterCount / 1e6:F1}M parameters) as a frozen " +
                                    $"{(quantized ? frozenType.ToString().ToLowerInvariant() : "f32")} base; chat template {chosen.Name}");
            frozen = quantized ? QuantizedBase.From(m, frozenType) : TrainableModel.Dense(LlamaParameters.FromModel(m));
        }
        var config = frozen.Config;
        var model = LoraTraining.Attach(frozen, lora, args.Seed(parse));
        long adapterParameters = model.TrainableParameters.Sum(p => (long)p.Count);
        Console.Error.WriteLine(
            $"LoRA r={lora.Rank} alpha={TrainingArguments.Format(lora.Alpha)} (scale {TrainingArguments.Format(lora.Scale)}{(lora.UseRsLora ? ", rsLoRA" : "")}) " +
            $"dropout {TrainingArguments.Format(lora.Dropout)} on {string.Join(",", lora.Targets.Select(t => t.ShortName()))}: " +
            $"{adapterParameters / 1e6:F3}M trainable parameters; frozen base {QuantizedBase.FrozenBytes(model) / (double)(1 << 20):F1} MiB");
        var options = args.Training(parse, LoraLearningRate);
        return TrainingRun.Execute(parse, args, model, options, tok, chosen, run =>
        {
            string folder = Path.Combine(run, "adapter");
            LoraTraining.Extract(model, lora).Save(folder, config);
            return
            [
                $"adapter: {folder}/ (PEFT format: {LoraAdapter.ConfigFile}, {LoraAdapter.WeightsFile})",
                $"try it: camelid chat -m {path} --lora {folder} --template {chosen.Name}",
                $"or merge it: camelid merge-lora --model {path} --lora {folder} --out merged.gguf",
            ];
        });
    }
}
