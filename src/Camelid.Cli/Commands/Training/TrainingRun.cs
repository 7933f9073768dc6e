using System.CommandLine;
using Camelid.Tensors.Threading;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training;
using Camelid.Training.Checkpoints;
using Camelid.Training.Data;
using Camelid.Training.Export;
using Camelid.Training.Model;
using Camelid.Training.Reporting;

namespace Camelid.Cli.Commands.Training;

/// <summary>What a run writes when it completes: the run folder in, the lines telling the user what was written out.</summary>
delegate IEnumerable<string> RunExport(string runFolder);

/// <summary>What `finetune` and `pretrain` do once they have initial weights: data, the loop, progress, Ctrl+C, export.</summary>
static class TrainingRun
{
    /// <summary>Exit code of a run stopped by Ctrl+C after saving its checkpoint (128 + SIGINT, as shells report it).</summary>
    const int Interrupted = 130;

    /// <summary>Trains every weight of <paramref name="parameters"/> and exports the model as GGUF and as a Hugging Face folder.</summary>
    public static int Execute(ParseResult parse, TrainingArguments args, LlamaParameters parameters, Tokenizer tokenizer,
        ChatTemplate template, string description, TrainingDataFormat? forcedFormat = null) =>
        Execute(parse, args, TrainableModel.Dense(parameters), args.Training(parse), tokenizer, template, run =>
        {
            var type = args.ExportType(parse);
            var metadata = new ExportMetadata { Description = description, ChatTemplate = ChatTemplateSources.For(template.Name) };
            var gguf = ModelExporter.WriteGguf(parameters, tokenizer, Path.Combine(run, "model.gguf"), type, metadata);
            var hf = ModelExporter.WriteHuggingFace(parameters, tokenizer, Path.Combine(run, "hf"), type, metadata);
            return
            [
                $"model: {gguf.Path} ({gguf.Bytes / (1 << 20)} MiB) and {hf.Path}/ (Hugging Face)",
                $"try it: camelid chat -m {gguf.Path} --template {template.Name}",
            ];
        }, forcedFormat);

    /// <summary>Trains <paramref name="model"/>'s trainable parameters; <paramref name="export"/> writes the result.</summary>
    public static int Execute(ParseResult parse, TrainingArguments args, TrainableModel model, TrainingOptions options, Tokenizer tokenizer,
        ChatTemplate template, RunExport export, TrainingDataFormat? forcedFormat = null)
    {
        string run = Path.GetFullPath(args.Out(parse));
        bool resume = args.Resume(parse);
        if (!resume && Checkpoint.Latest(run) != null)
            throw new ArgumentException($"{run} already holds a run (see {Checkpoint.Folder(run)}); pass --resume to continue it, or choose another --out");
        options.Validate();
        var sources = args.Sources(parse, forcedFormat);

        Console.Error.WriteLine($"preparing data into {Path.Combine(run, "data")} ...");
        using var data = TrainingData.Prepare(sources, tokenizer, args.Data(parse, template), Path.Combine(run, "data", "train.tokens"));
        Console.Error.WriteLine(data.Report.Describe());

        using var pool = new ComputePool(args.Threads(parse));
        var trainer = new Trainer(model, data, options, pool, run);
        if (resume)
        {
            var state = trainer.Resume();
            Console.Error.WriteLine(state == null
                ? $"no checkpoint in {Checkpoint.Folder(run)} yet; starting from the beginning"
                : $"resuming at step {state.Step}/{state.TotalSteps} (epoch {state.Epoch}, sequence {state.EpochIndex})");
        }
        long parameterCount = model.TrainableParameters.Sum(p => (long)p.Count);
        Console.Error.WriteLine(
            $"{parameterCount / 1e6:F2}M trainable parameters, {trainer.TotalSteps} steps of {options.BatchSize} sequences " +
            $"({options.AccumulationSteps} micro-batches of {options.MicroBatch}), lr {TrainingArguments.Format(options.LearningRate)} {options.Schedule.ToString().ToLowerInvariant()} " +
            $"with {trainer.Schedule.WarmupSteps} warmup steps, {pool.Threads} threads{(options.GradientCheckpointing ? ", gradient checkpointing" : "")}; " +
            $"optimizer state {16.0 * parameterCount / (1 << 20):F0} MiB (weights, gradients, 2 moments)");

        var progress = new ProgressLine(trainer.TotalSteps);
        trainer.StepCompleted += progress.Show;
        trainer.Validated += m => progress.Note($"step {m.Step}: validation loss {m.ValidationLoss:F4} over {m.ValidationTokens} tokens");
        trainer.CheckpointSaved += folder => progress.Note($"checkpoint: {folder}");

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested)
                return; // a second Ctrl+C ends the process at once; the last complete checkpoint stays
            e.Cancel = true;
            cancel.Cancel();
            progress.Note("stopping after this step and saving a checkpoint (Ctrl+C again to quit at once) ...");
        };
        Console.CancelKeyPress += onCancel;
        TrainingOutcome outcome;
        try
        {
            outcome = trainer.Run(cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            progress.Done();
        }
        if (outcome == TrainingOutcome.Interrupted)
        {
            Console.Error.WriteLine($"interrupted at step {trainer.Step}/{trainer.TotalSteps}; continue with the same command and --resume");
            return Interrupted;
        }

        Console.Error.WriteLine($"metrics: {trainer.MetricsPath}, chart: {trainer.ChartPath}");
        foreach (string line in export(run))
            Console.Error.WriteLine(line);
        return 0;
    }

    /// <summary>
    /// The live progress line on stderr: rewritten in place on a terminal; on a pipe or log file, one line per
    /// percent of the run (and the first and last steps), so CI logs stay readable.
    /// </summary>
    sealed class ProgressLine(int totalSteps)
    {
        readonly bool _terminal = !Console.IsErrorRedirected;
        readonly int _every = Math.Max(1, totalSteps / 100);
        bool _open;

        public void Show(StepMetrics m)
        {
            string line = $"step {m.Step}/{m.TotalSteps} | epoch {m.Epoch:F2} | loss {m.Loss:F4} | lr {m.LearningRate:E2} | grad norm {m.GradNorm:F3} | " +
                          $"{m.TokensPerSecond:F0} tok/s | ETA {Format(m.Remaining)}";
            if (_terminal)
            {
                Console.Error.Write("\r" + line.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 160) : 0));
                _open = true;
            }
            else if (m.Step == 1 || m.Step == m.TotalSteps || m.Step % _every == 0)
            {
                Console.Error.WriteLine(line);
            }
        }

        public void Note(string text)
        {
            Done();
            Console.Error.WriteLine(text);
        }

        public void Done()
        {
            if (_open)
                Console.Error.WriteLine();
            _open = false;
        }

        static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes:D2}:{t.Seconds:D2}";
    }
}
