using System.CommandLine;
using System.Globalization;
using Camelid.Tensors.Quant;
using Camelid.Training;
using Camelid.Training.Data;
using Camelid.Training.Optimization;

namespace Camelid.Cli.Commands.Training;

/// <summary>Per-command defaults: fine-tuning follows Alpaca/Vicuna, pretraining follows llama2.c.</summary>
sealed record TrainingDefaults(double Epochs, double LearningRate, int BatchSize, int MicroBatch, int MaxLength, double WarmupRatio,
    double WeightDecay, float Beta2, double ValidationSplit)
{
    /// <summary>Stanford Alpaca's train.py flags (and Vicuna's, but for its 2048 context and 2 epochs).</summary>
    public static readonly TrainingDefaults FineTuning = new(3, 2e-5, 128, 4, 512, 0.03, 0, 0.999f, 0.01);

    /// <summary>llama2.c's train.py: lr 5e-4, AdamW β2 0.95, weight decay 0.1; shorter warmup for short runs.</summary>
    public static readonly TrainingDefaults Pretraining = new(1, 5e-4, 32, 8, 256, 0.01, 0.1, 0.95f, 0.01);
}

/// <summary>The options `finetune` and `pretrain` share, parsed into the engine's option records.</summary>
sealed class TrainingArguments
{
    readonly Option<string[]> _data = new("--data", "-d")
    {
        Description = "Training data: FILE or FILE=TAG (a Koala-style quality tag put before each example's user text); repeatable",
        Required = true,
        AllowMultipleArgumentsPerToken = true,
    };
    readonly Option<string> _format = new("--format") { Description = "alpaca | sharegpt | messages | text | auto (by extension and first record)", DefaultValueFactory = _ => "auto" };
    readonly Option<string> _out = new("--out", "-o") { Description = "Run folder: data cache, checkpoints, metrics.jsonl, loss.png, the final model", Required = true };
    readonly Option<bool> _resume = new("--resume") { Description = "Continue the run in --out from its newest checkpoint" };
    readonly Option<double> _epochs;
    readonly Option<int> _maxSteps = new("--max-steps") { Description = "Stop after this many optimizer steps (0: run all epochs)" };
    readonly Option<double> _lr;
    readonly Option<int> _batchSize;
    readonly Option<int> _microBatch;
    readonly Option<int> _maxLength;
    readonly Option<double> _warmupRatio;
    readonly Option<string> _schedule = new("--schedule") { Description = "cosine | linear | constant (after warmup)", DefaultValueFactory = _ => "cosine" };
    readonly Option<double> _weightDecay;
    readonly Option<double> _gradClip = new("--grad-clip") { Description = "Clip the global gradient norm to this (0: off)", DefaultValueFactory = _ => 1.0 };
    readonly Option<bool> _checkpointing = new("--grad-checkpointing") { Description = "Recompute each block's activations in backward: much less memory, ~30% more compute" };
    readonly Option<double> _valSplit;
    readonly Option<int> _evalEvery = new("--eval-every") { Description = "Validation loss every N steps (0: each epoch's end)" };
    readonly Option<int> _saveEvery = new("--save-every") { Description = "Checkpoint every N steps (0: only at the end and on Ctrl+C)" };
    readonly Option<int> _keep = new("--keep-checkpoints") { Description = "Checkpoints kept (older ones are deleted)", DefaultValueFactory = _ => 2 };
    readonly Option<long> _seed = new("--seed") { Description = "Seed of the shuffles, the validation split and initialisation", DefaultValueFactory = _ => 42 };
    readonly Option<bool> _pack = new("--pack") { Description = "Pack several short examples into each sequence" };
    readonly Option<bool> _skipInvalid = new("--skip-invalid") { Description = "Skip and count examples that cannot be rendered instead of stopping" };
    readonly Option<string> _exportType = new("--export-type") { Description = "Type of the final model's weights: f32 | f16 | bf16", DefaultValueFactory = _ => "f32" };
    readonly Option<int> _threads = CommonOptions.Threads();

    public TrainingArguments(TrainingDefaults d)
    {
        _epochs = new("--epochs") { Description = "Passes over the training data", DefaultValueFactory = _ => d.Epochs };
        _lr = new("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => d.LearningRate };
        _batchSize = new("--batch-size") { Description = "Sequences per optimizer step (global batch)", DefaultValueFactory = _ => d.BatchSize };
        _microBatch = new("--micro-batch") { Description = "Sequences per forward/backward pass (gradients accumulate up to --batch-size)", DefaultValueFactory = _ => d.MicroBatch };
        _maxLength = new("--max-len") { Description = "Positions per sequence; longer examples are truncated (and counted)", DefaultValueFactory = _ => d.MaxLength };
        _warmupRatio = new("--warmup-ratio") { Description = "Fraction of the steps spent warming the learning rate up from 0", DefaultValueFactory = _ => d.WarmupRatio };
        _weightDecay = new("--weight-decay") { Description = "AdamW decoupled weight decay (matrices only)", DefaultValueFactory = _ => d.WeightDecay };
        _valSplit = new("--val-split") { Description = "Fraction of examples held out for validation", DefaultValueFactory = _ => d.ValidationSplit };
        Defaults = d;
    }

    public TrainingDefaults Defaults { get; }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _data, _format, _out, _resume, _epochs, _maxSteps, _lr, _batchSize, _microBatch, _maxLength, _warmupRatio,
                     _schedule, _weightDecay, _gradClip, _checkpointing, _valSplit, _evalEvery, _saveEvery, _keep, _seed, _pack, _skipInvalid, _exportType, _threads })
            command.Options.Add(option);
    }

    public string Out(ParseResult p) => p.GetValue(_out)!;
    public bool Resume(ParseResult p) => p.GetValue(_resume);
    public int Threads(ParseResult p) => p.GetValue(_threads) is > 0 and var t ? t : throw new ArgumentException("--threads must be at least 1");
    public long Seed(ParseResult p) => p.GetValue(_seed);
    public int MaxLength(ParseResult p) => p.GetValue(_maxLength);

    public GgmlType ExportType(ParseResult p) => p.GetValue(_exportType)!.ToLowerInvariant() switch
    {
        "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "bf16" => GgmlType.BF16,
        var other => throw new ArgumentException($"--export-type must be f32, f16 or bf16, not '{other}'"),
    };

    public IReadOnlyList<DataSource> Sources(ParseResult p, TrainingDataFormat? forced = null)
    {
        var format = forced ?? TrainingDataFormats.Parse(p.GetValue(_format)!);
        return p.GetValue(_data)!.Select(spec =>
        {
            int eq = spec.LastIndexOf('=');
            string path = eq > 0 ? spec[..eq] : spec;
            string? tag = eq > 0 ? spec[(eq + 1)..] : null;
            if (tag is { Length: 0 })
                throw new ArgumentException($"--data {spec}: the quality tag after '=' is empty");
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new FileNotFoundException($"training data not found: {path}");
            return new DataSource(path, format, tag);
        }).ToList();
    }

    /// <param name="defaultLearningRate">Replaces --lr's default when the user did not give one (LoRA trains best at a higher rate).</param>
    public TrainingOptions Training(ParseResult p, double? defaultLearningRate = null) => new()
    {
        Epochs = p.GetValue(_epochs),
        MaxSteps = p.GetValue(_maxSteps),
        LearningRate = defaultLearningRate is { } rate && p.GetResult(_lr) is null or { Implicit: true } ? rate : p.GetValue(_lr),
        BatchSize = p.GetValue(_batchSize),
        MicroBatch = p.GetValue(_microBatch),
        WarmupRatio = p.GetValue(_warmupRatio),
        Schedule = p.GetValue(_schedule)!.ToLowerInvariant() switch
        {
            "cosine" => ScheduleKind.Cosine,
            "linear" => ScheduleKind.Linear,
            "constant" => ScheduleKind.Constant,
            var other => throw new ArgumentException($"--schedule must be cosine, linear or constant, not '{other}'"),
        },
        Optimizer = new AdamWOptions { WeightDecay = (float)p.GetValue(_weightDecay), Beta2 = Defaults.Beta2 },
        GradClip = p.GetValue(_gradClip),
        GradientCheckpointing = p.GetValue(_checkpointing),
        EvalEvery = p.GetValue(_evalEvery),
        SaveEvery = p.GetValue(_saveEvery),
        KeepCheckpoints = p.GetValue(_keep),
        Seed = p.GetValue(_seed),
    };

    public TrainingDataOptions Data(ParseResult p, Camelid.Tokenization.ChatTemplates.ChatTemplate template) => new()
    {
        MaxLength = p.GetValue(_maxLength) is >= 1 and var n ? n : throw new ArgumentException("--max-len must be at least 1"),
        ChatTemplate = template,
        SkipInvalid = p.GetValue(_skipInvalid),
        Pack = p.GetValue(_pack),
        ValidationFraction = p.GetValue(_valSplit),
        Seed = p.GetValue(_seed),
    };

    public static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
