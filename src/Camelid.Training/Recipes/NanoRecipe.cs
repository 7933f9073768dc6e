// `camelid recipe nano`: the seeds' recipe (LLaMA → Alpaca) in miniature, every step by Camelid itself:
//   data       prose for pretraining and instruction / chat examples of a fixed set of skills (Camelid.Data.Nano),
//              with held-out prompts no training seed can produce
//   tokenizer  a SentencePiece-style BPE tokenizer trained on that text (Camelid.Tokenization.Training)
//   pretrain   a small LLaMA from random weights on the prose
//   sft        every weight fine-tuned on the instruction data (vicuna template: loss on the replies)
//   evaluate   greedy answers to the held-out prompts, exact match per skill, before and after SFT
//   ship       the model as GGUF (f16, tokenizer and chat template inside) and a model card (README.md)
// Each step writes into its own folder and is skipped when its output is there, and the training steps resume from
// their checkpoints, so an interrupted recipe continues where it stopped when run again.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Camelid.Data.Nano;
using Camelid.Model;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Tokenization.Training;
using Camelid.Training.Data;
using Camelid.Training.Export;
using Camelid.Training.Model;
using Camelid.Training.Optimization;
using Camelid.Training.Reporting;

namespace Camelid.Training.Recipes;

/// <summary>The sizes of one recipe: the full one (under an hour on 2 cores) or the quick one (a few minutes, for tests).</summary>
public sealed record NanoRecipeSize
{
    public required string Name { get; init; }
    public required int Documents { get; init; }
    /// <summary>Training examples of each skill: computed skills (sums, list tasks) need many more than recalled ones.</summary>
    public required IReadOnlyDictionary<NanoSkill, int> ExamplesPerSkill { get; init; }
    public required int HeldOutPerSkill { get; init; }
    public required int VocabSize { get; init; }
    public required LlamaConfig Model { get; init; }
    public required TrainingOptions Pretraining { get; init; }
    public required TrainingOptions FineTuning { get; init; }
    public int MaxAnswerTokens { get; init; } = 48;

    public static NanoRecipeSize Full { get; } = new()
    {
        Name = "full",
        Documents = 25_000,
        ExamplesPerSkill = new Dictionary<NanoSkill, int>
        {
            [NanoSkill.Arithmetic] = 20_000, [NanoSkill.WordsAndLists] = 15_000, [NanoSkill.UnitConversion] = 8_000,
            [NanoSkill.Facts] = 5_000, [NanoSkill.SystemPrompt] = 5_000, [NanoSkill.Identity] = 5_000, [NanoSkill.CommandHelp] = 5_000,
        },
        HeldOutPerSkill = 50,
        VocabSize = 2048,
        Model = new LlamaConfig { Dim = 192, HiddenDim = 512, Layers = 6, Heads = 6, KvHeads = 6, VocabSize = 2048, TrainedContextLength = 256 },
        Pretraining = new TrainingOptions { Epochs = 1, LearningRate = 2e-3, BatchSize = 32, MicroBatch = 8, WarmupRatio = 0.02, Schedule = ScheduleKind.Cosine, Optimizer = new AdamWOptions { Beta2 = 0.95f, WeightDecay = 0.1f } },
        FineTuning = new TrainingOptions { Epochs = 2, LearningRate = 1e-3, BatchSize = 32, MicroBatch = 16, WarmupRatio = 0.03, Schedule = ScheduleKind.Cosine },
    };

    public static NanoRecipeSize Quick { get; } = new()
    {
        Name = "quick",
        Documents = 2_000,
        ExamplesPerSkill = NanoInstructions.Skills.ToDictionary(skill => skill, _ => 400),
        HeldOutPerSkill = 10,
        VocabSize = 512,
        Model = new LlamaConfig { Dim = 96, HiddenDim = 256, Layers = 3, Heads = 4, KvHeads = 4, VocabSize = 512, TrainedContextLength = 128 },
        Pretraining = new TrainingOptions { Epochs = 1, LearningRate = 3e-3, BatchSize = 16, MicroBatch = 16, WarmupRatio = 0.05, Optimizer = new AdamWOptions { Beta2 = 0.95f, WeightDecay = 0.1f } },
        FineTuning = new TrainingOptions { Epochs = 4, LearningRate = 3e-3, BatchSize = 16, MicroBatch = 16, WarmupRatio = 0.05 },
        MaxAnswerTokens = 24,
    };
}

/// <summary>What a recipe made: the model, its card and the held-out accuracy before and after fine-tuning.</summary>
public sealed record NanoRecipeResult(string ModelPath, string CardPath, NanoScore Base, NanoScore Tuned, TimeSpan Elapsed);

public sealed class NanoRecipe(NanoRecipeSize size, int seed, int threads, string directory, Action<string> log)
{
    public const string ModelFile = "camelid-nano.gguf";
    /// <summary>The held-out accuracies as JSON, beside the card that states them (the shipped model's test reads it).</summary>
    public const string EvaluationFile = "evaluation.json";
    static readonly ChatTemplate Template = ChatTemplates.Get("vicuna");

    string Folder(string step) => Path.Combine(directory, step);

    /// <summary>Runs (or continues) every step; null when <paramref name="cancellation"/> stopped it (run again to continue).</summary>
    public NanoRecipeResult? Run(string command, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(directory);
        var data = MakeData();
        var tokenizer = TrainTokenizer(data);
        var config = size.Model with { VocabSize = tokenizer.VocabSize };
        using var pool = new ComputePool(threads);

        var pretrained = Train("pretrain", LlamaParameters.Random(config, seed, tiedOutput: true), tokenizer,
            [new DataSource(data.Prose, TrainingDataFormat.Text)], size.Pretraining, pool, cancellation);
        if (pretrained == null)
            return null;
        var tuned = Train("sft", pretrained.Value.Parameters, tokenizer,
            [new DataSource(data.Train, TrainingDataFormat.Messages)], size.FineTuning, pool, cancellation);
        if (tuned == null)
            return null;

        string shipped = Path.Combine(directory, ModelFile);
        ModelExporter.WriteGguf(tuned.Value.Parameters, tokenizer, shipped, GgmlType.F16, new ExportMetadata
        {
            Name = "Camelid-Nano",
            Description = $"Camelid-Nano: made by `{command}`",
            ChatTemplate = ChatTemplateSources.For(Template.Name),
        });
        // The shipped F16 file is what is measured, so the card states what users get.
        var heldOut = NanoDataFiles.ReadHeldOut(data.HeldOut);
        var baseScore = Evaluate(pretrained.Value.ModelPath, heldOut, "pretrained (before SFT)");
        var tunedScore = Evaluate(shipped, heldOut, "fine-tuned");
        var result = new NanoRecipeResult(shipped, Path.Combine(directory, "README.md"), baseScore, tunedScore, clock.Elapsed);
        File.WriteAllText(result.CardPath, ModelCard(command, config, data, tokenizer, result));
        File.WriteAllText(Path.Combine(directory, EvaluationFile), System.Text.Json.JsonSerializer.Serialize(new
        {
            command,
            recipe = size.Name,
            seed,
            elapsed_seconds = Math.Round(result.Elapsed.TotalSeconds),
            held_out_per_skill = size.HeldOutPerSkill,
            max_answer_tokens = size.MaxAnswerTokens,
            pretrained = new { overall = baseScore.Accuracy, by_skill = baseScore.Skills.ToDictionary(s => NanoSkills.Name(s.Skill), s => s.Accuracy) },
            fine_tuned = new { overall = tunedScore.Accuracy, by_skill = tunedScore.Skills.ToDictionary(s => NanoSkills.Name(s.Skill), s => s.Accuracy) },
        }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        log($"model: {shipped} ({new FileInfo(shipped).Length / 1e6:F1} MB), card: {result.CardPath}, {clock.Elapsed:hh\\:mm\\:ss}");
        return result;
    }

    sealed record DataFiles(string Prose, string Train, string HeldOut, int Documents, int TrainExamples, int HeldOutExamples);

    DataFiles MakeData()
    {
        string dir = Folder("data");
        var files = new DataFiles(Path.Combine(dir, "prose.txt"), Path.Combine(dir, "train.jsonl"), Path.Combine(dir, "heldout.jsonl"),
            size.Documents, size.ExamplesPerSkill.Values.Sum(), size.HeldOutPerSkill * NanoInstructions.Skills.Count);
        if (File.Exists(files.HeldOut))
        {
            log($"data: {dir} (made before)");
            return files;
        }
        Directory.CreateDirectory(dir);
        NanoDataFiles.WriteProse(files.Prose, NanoCorpus.Prose(seed, size.Documents));
        NanoDataFiles.WriteTraining(files.Train, NanoInstructions.Generate(seed, size.ExamplesPerSkill, NanoSplit.Train));
        NanoDataFiles.WriteHeldOut(files.HeldOut, HeldOut(seed, size.HeldOutPerSkill));
        log($"data: {size.Documents} documents, {files.TrainExamples} training and {files.HeldOutExamples} held-out examples in {dir}");
        return files;
    }

    Tokenizer TrainTokenizer(DataFiles data)
    {
        string path = Path.Combine(Folder("tokenizer"), "tokenizer.model");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Folder("tokenizer"));
            // The tokenizer sees the prose and the instruction data (regenerated: the same seed gives the same examples).
            var texts = File.ReadLines(data.Prose).Where(line => line.Length > 0)
                .Concat(NanoInstructions.Generate(seed, size.ExamplesPerSkill, NanoSplit.Train).SelectMany(e => e.Messages.Select(m => m.Content)));
            // Every character is kept (the text is generated: nothing is noise) and digits stay single pieces, as in LLaMA,
            // so sums are learned digit by digit instead of as lookups of arbitrary multi-digit pieces.
            var vocabulary = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = size.VocabSize, CharacterCoverage = 1.0, SplitDigits = true });
            File.WriteAllBytes(path + ".partial", SentencePieceModelWriter.Serialize(vocabulary));
            File.Move(path + ".partial", path, overwrite: true);
            log($"tokenizer: {vocabulary.Tokens.Count} pieces in {path}");
        }
        return LlamaModel.LoadTokenizerFile(path);
    }

    /// <summary>One training step of the recipe, resumed from its checkpoints; its f32 model is exported for evaluation.</summary>
    (LlamaParameters Parameters, string ModelPath)? Train(string step, LlamaParameters parameters, Tokenizer tokenizer,
        IReadOnlyList<DataSource> sources, TrainingOptions options, ComputePool pool, CancellationToken cancellation)
    {
        string run = Folder(step), modelPath = Path.Combine(run, "model.gguf");
        if (File.Exists(modelPath))
        {
            log($"{step}: {modelPath} (trained before)");
            using var model = LlamaModel.Load(modelPath, new ModelLoadOptions { Threads = 1 });
            return (LlamaParameters.FromModel(model), modelPath);
        }
        var dataOptions = new TrainingDataOptions
        {
            MaxLength = size.Model.TrainedContextLength, ChatTemplate = Template, Pack = true, ValidationFraction = 0.01, Seed = seed,
        };
        using var data = TrainingData.Prepare(sources, tokenizer, dataOptions, Path.Combine(run, "data", "train.tokens"), cancellation: cancellation);
        var trainer = new Trainer(parameters, data, options with { Seed = seed, SaveEvery = 200, KeepCheckpoints = 1 }, pool, run);
        if (trainer.Resume() is { } state)
            log($"{step}: resuming at step {state.Step}/{state.TotalSteps}");
        log($"{step}: {trainer.TotalSteps} steps of {options.BatchSize} sequences × {dataOptions.MaxLength} positions ({data.Report.Tokens:N0} tokens)");
        int every = Math.Max(1, trainer.TotalSteps / 20);
        trainer.StepCompleted += m =>
        {
            if (m.Step % every == 0 || m.Step == m.TotalSteps)
                log(string.Create(CultureInfo.InvariantCulture, $"{step}: step {m.Step}/{m.TotalSteps}, loss {m.Loss:F3}, {m.TokensPerSecond:F0} tokens/s"));
        };
        if (trainer.Run(cancellation) == TrainingOutcome.Interrupted)
            return null;
        ModelExporter.WriteGguf(parameters, tokenizer, modelPath, GgmlType.F32,
            new ExportMetadata { Name = $"Camelid-Nano ({step})", ChatTemplate = ChatTemplateSources.For(Template.Name) });
        return (parameters, modelPath);
    }

    NanoScore Evaluate(string modelPath, IReadOnlyList<NanoExample> heldOut, string label)
    {
        using var model = LlamaModel.Load(modelPath, new ModelLoadOptions { Threads = threads });
        var tokenizer = model.RequireTokenizer();
        var score = NanoEvaluation.Score(heldOut, messages => GreedyAnswer(model, tokenizer, messages, size.MaxAnswerTokens));
        log($"evaluation, {label}: {score.Accuracy:P0} exact match ({string.Join(", ", score.Skills.Select(s => $"{NanoSkills.Name(s.Skill)} {s.Accuracy:P0}"))})");
        return score;
    }

    /// <summary>The held-out examples of a recipe with this seed: a seed the training data was not made with, from the held-out split.</summary>
    public static IEnumerable<NanoExample> HeldOut(int seed, int perSkill) => NanoInstructions.Generate(seed + 1, perSkill, NanoSplit.HeldOut);

    /// <summary>The model's greedy reply to a conversation (the last message is the user's), up to EOS.</summary>
    public static string GreedyAnswer(LlamaModel model, Tokenizer tokenizer, IReadOnlyList<(string Role, string Content)> messages, int maxTokens)
    {
        var chat = messages.Select(m => new ChatMessage(m.Role switch
        {
            "system" => ChatRole.System,
            "assistant" => ChatRole.Assistant,
            _ => ChatRole.User,
        }, m.Content)).ToList();
        var prompt = Template.Encode(tokenizer, chat);
        int context = Math.Min(model.Config.TrainedContextLength, prompt.Length + maxTokens);
        if (prompt.Length >= context)
            return "";
        var cache = model.NewKvCache(context);
        var logits = model.Forward(prompt, cache, allLogits: false);
        var reply = new List<int>();
        for (int i = 0; i < maxTokens && prompt.Length + reply.Count < context; i++)
        {
            int next = ArgMax(logits);
            if (tokenizer.IsEndOfGeneration(next))
                break;
            reply.Add(next);
            logits = model.Forward([next], cache, allLogits: false);
        }
        return tokenizer.Decode(reply.ToArray()).Trim();
    }

    static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best])
                best = i;
        return best;
    }

    string ModelCard(string command, LlamaConfig c, DataFiles data, Tokenizer tokenizer, NanoRecipeResult result)
    {
        var card = new StringBuilder();
        string F(double v) => v.ToString("P0", CultureInfo.InvariantCulture);
        long parameters = (long)c.VocabSize * c.Dim + c.Layers * (4L * c.Dim * c.Dim + 3L * c.Dim * c.HiddenDim + 2L * c.Dim) + c.Dim;
        card.AppendLine("# Camelid-Nano").AppendLine();
        card.AppendLine("A small LLaMA-architecture chat model made end to end by Camelid's own pipeline: a BPE tokenizer trained on");
        card.AppendLine("generated text, pretraining from random weights on generated prose, supervised fine-tuning on generated");
        card.AppendLine("instruction and chat data (vicuna template), and exact-match evaluation on held-out prompts. No third-party");
        card.AppendLine("text or weights went into it. It knows a handful of skills and little else.").AppendLine();
        card.AppendLine("Rebuilt with:").AppendLine().AppendLine("```sh").AppendLine(command).AppendLine("```").AppendLine();
        card.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Recipe `{size.Name}`, seed {seed}, {threads} threads, {result.Elapsed:hh\\:mm\\:ss} on this machine ({Environment.ProcessorCount} cores)."));
        card.AppendLine().AppendLine("## Model").AppendLine();
        card.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"dim {c.Dim}, {c.Layers} layers, {c.Heads} heads ({c.KvHeads} KV), hidden {c.HiddenDim}, vocabulary {c.VocabSize}, context {c.TrainedContextLength}, tied head; {parameters / 1e6:F2}M parameters, stored as F16 (norms F32)."));
        card.AppendLine().AppendLine("## Data").AppendLine();
        card.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{data.Documents:N0} generated prose documents for pretraining; {data.TrainExamples:N0} instruction and chat examples for fine-tuning ({string.Join(", ", size.ExamplesPerSkill.Select(p => $"{NanoSkills.Name(p.Key)} {p.Value:N0}"))}); {data.HeldOutExamples} held-out examples ({size.HeldOutPerSkill} per skill) whose prompts no training seed can produce (Camelid.Data.Nano: split by a hash of the prompt)."));
        card.AppendLine().AppendLine("## Training").AppendLine();
        card.AppendLine("| step | epochs | lr | batch × length | schedule | weight decay | β2 |").AppendLine("|---|---:|---:|---|---|---:|---:|");
        foreach (var (name, o) in new[] { ("pretraining", size.Pretraining), ("fine-tuning", size.FineTuning) })
            card.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {o.Epochs} | {o.LearningRate:G3} | {o.BatchSize} × {c.TrainedContextLength} (packed) | {o.Schedule.ToString().ToLowerInvariant()}, warmup {o.WarmupRatio:G2} | {o.Optimizer.WeightDecay:G2} | {o.Optimizer.Beta2:G3} |"));
        card.AppendLine();
        foreach (var step in new[] { "pretrain", "sft" })
        {
            string chart = Path.Combine(Folder(step), "loss.png");
            if (File.Exists(chart))
            {
                string copy = Path.Combine(directory, $"loss-{step}.png");
                File.Copy(chart, copy, overwrite: true);
                card.AppendLine($"![{step} loss](loss-{step}.png)").AppendLine();
            }
        }
        card.AppendLine("## Held-out exact match").AppendLine();
        card.AppendLine("| skill | pretrained only | after fine-tuning |").AppendLine("|---|---:|---:|");
        foreach (var skill in result.Tuned.Skills)
            card.AppendLine($"| {NanoSkills.Name(skill.Skill)} | {F(result.Base[skill.Skill].Accuracy)} | {F(skill.Accuracy)} ({skill.Correct}/{skill.Total}) |");
        card.AppendLine($"| **all** | {F(result.Base.Accuracy)} | {F(result.Tuned.Accuracy)} |").AppendLine();
        card.AppendLine("Greedy decoding, the reply up to the end of the turn compared with the expected answer after trimming spaces.");
        return card.ToString();
    }
}
