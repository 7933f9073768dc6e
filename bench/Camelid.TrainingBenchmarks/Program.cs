// Training throughput benchmark: tokens/s of whole optimizer steps of the training engine (zero the gradients,
// forward + backward, global-norm clipping at 1.0, AdamW) on a randomly initialised LLaMA of a standard shape,
// and the memory the step holds.
//
//   dotnet run -c Release --project bench/Camelid.TrainingBenchmarks -- --shape stories15m --seq 256 --micro-batch 4
//        [--steps 3] [--warmup 1] [--threads N] [--grad-checkpointing] [--seed 1] [--profile] [--json]
//        [--method full|lora|qlora|qlora-q4_0|qlora-q8_0] [--lora-r 8] [--lora-targets all]
//
// --method lora trains adapters over the frozen f32 weights, qlora over the block matrices in NF4 (or ggml's Q4_0/Q8_0):
// the same step, with memory reported as the frozen base, the trainable parameters, their gradients and AdamW state.
// --shape is stories15m, tinyllama-1.1b, llama-7b or a config.json-style file (Camelid.Model.Conversion.ModelShapes);
// the output head is always untied, as in TinyLlama, so every shape trains the same set of matrices.
// Tokens are uniform random ids and every position is trained: a step is micro-batch × seq tokens.
// --json prints one JSON object on stdout (progress goes to stderr); bench/training/torch_step.py prints the
// same fields for the same step in PyTorch and bench/training/run.sh puts the two side by side.
using System.Globalization;
using System.Text.Json;
using Camelid.Model.Adapters;
using Camelid.Model.Conversion;
using Camelid.Tensors.Threading;
using Camelid.Training.Lora;
using Camelid.Training.Model;
using Camelid.Training.Optimization;
using Camelid.TrainingBenchmarks;

var options = BenchmarkArguments.Parse(args);
var log = options.Json ? Console.Error : Console.Out;
var shape = ModelShapes.Resolve(options.Shape);
var config = shape.Config;
var cost = new ModelCost(config, options.Seq);
int tokensPerStep = options.MicroBatch * options.Seq;

log.WriteLine(Invariant($"{shape.Name}: dim {config.Dim}, hidden {config.HiddenDim}, {config.Layers} layers, {config.Heads} heads ({config.KvHeads} kv), vocab {config.VocabSize}, untied head"));
log.WriteLine(Invariant($"seq {options.Seq} × micro-batch {options.MicroBatch} = {tokensPerStep} tokens per step, {options.Threads} threads, gradient checkpointing {(options.GradientCheckpointing ? "on" : "off")}"));

var initialisation = System.Diagnostics.Stopwatch.StartNew();
LlamaParameters? parameters = LlamaParameters.Random(config, options.Seed, tiedOutput: false);
long parameterCount = parameters.Count;
log.WriteLine(Invariant($"{parameterCount / 1e6:F1}M parameters initialised in {initialisation.Elapsed.TotalSeconds:F1} s"));
var model = Trainable(parameters, options);
if (options.Method != "full")
    parameters = null; // a QLoRA base keeps only what it compressed: let the f32 block matrices go
var trainable = model.TrainableParameters;
long trainableCount = trainable.Sum(p => (long)p.Count);
long frozenBytes = options.Method == "full" ? 0 : QuantizedBase.FrozenBytes(model);
log.WriteLine(Invariant($"{options.Method}: {trainableCount / 1e6:F3}M trainable parameters ({model.Describe()}); frozen base {frozenBytes / (double)(1 << 20):F1} MiB"));

using var pool = new ComputePool(options.Threads);
var transformer = new TrainingTransformer(model, pool, options.GradientCheckpointing);
var optimizer = new AdamW(trainable, new AdamWOptions { WeightDecay = 0.1f });
var step = new TrainingStep(model, transformer, optimizer);
var batches = RandomBatches.Make(options.Warmup + options.Steps, options.MicroBatch, options.Seq, config.VocabSize, options.Seed);

var timings = new List<StepTiming>();
for (int i = 0; i < batches.Count; i++)
{
    var timing = step.Run(batches[i]);
    bool warmUp = i < options.Warmup;
    if (!warmUp)
        timings.Add(timing);
    log.WriteLine(Invariant($"{(warmUp ? "warm-up" : "step")} {(warmUp ? i + 1 : i - options.Warmup + 1)}: {timing.Seconds:F3} s, {tokensPerStep / timing.Seconds:F1} tokens/s (forward+backward {timing.ForwardBackward:F3} s; zero {timing.Zero:F3}, clip {timing.Clip:F3}, AdamW {timing.Update:F3}), loss {timing.Loss:F4}"));
}

var tokensPerSecond = timings.Select(t => tokensPerStep / t.Seconds).ToList();
var report = new BenchmarkReport
{
    Engine = "camelid",
    Runtime = $"Camelid (.NET {Environment.Version})",
    Shape = shape.Name,
    Dim = config.Dim, HiddenDim = config.HiddenDim, Layers = config.Layers, Heads = config.Heads, KvHeads = config.KvHeads, VocabSize = config.VocabSize,
    Seq = options.Seq, MicroBatch = options.MicroBatch, TokensPerStep = tokensPerStep, Threads = options.Threads,
    GradCheckpointing = options.GradientCheckpointing, Warmup = options.Warmup, Steps = options.Steps,
    Method = options.Method,
    Parameters = parameterCount,
    TrainableParameters = trainableCount,
    TokensPerSecondMean = Statistics.Mean(tokensPerSecond),
    TokensPerSecondStd = Statistics.StandardDeviation(tokensPerSecond),
    StepSecondsMean = Statistics.Mean(timings.Select(t => t.Seconds)),
    ForwardBackwardSecondsMean = Statistics.Mean(timings.Select(t => t.ForwardBackward)),
    OptimizerSecondsMean = Statistics.Mean(timings.Select(t => t.Optimizer)),
    ModelGflopPerToken = cost.FlopsPerToken / 1e9,
    ModelGflops = cost.FlopsPerToken * Statistics.Mean(tokensPerSecond) / 1e9,
    ParameterBytes = options.Method == "full" ? 4L * parameterCount : frozenBytes + 4L * trainableCount,
    FrozenBaseBytes = frozenBytes,
    GradientBytes = 4L * trainableCount,
    OptimizerStateBytes = 4L * optimizer.FirstMoments.Sum(m => (long)m.Length) + 4L * optimizer.SecondMoments.Sum(v => (long)v.Length),
    ActivationBytes = transformer.ActivationBytes,
    PeakRssBytes = ProcessStatus.PeakResidentBytes(),
    LoadAverage = ProcessStatus.LoadAverage(),
    StepTimes = timings.Select(t => new StepRecord(t.Seconds, tokensPerStep / t.Seconds, t.ForwardBackward, t.Optimizer, t.Loss)).ToList(),
};
// The profile replays kernels after the peak was read, so its scratch does not count towards it.
if (options.Profile)
    report = report with { Profile = KernelProfile.Measure(parameters!, batches[^1], pool, options.GradientCheckpointing) };

if (options.Json)
    Console.WriteLine(JsonSerializer.Serialize(report, BenchmarkReport.JsonOptions));
else
    report.WriteSummary(Console.Out);

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

static TrainableModel Trainable(LlamaParameters parameters, BenchmarkArguments options)
{
    if (options.Method == "full")
        return TrainableModel.Dense(parameters);
    var lora = new LoraConfig { Rank = options.LoraRank, Alpha = 2 * options.LoraRank, Dropout = 0.05, Targets = BlockMatrices.ParseList(options.LoraTargets) };
    var frozen = options.Method switch
    {
        "lora" => TrainableModel.Dense(parameters),
        "qlora" => QuantizedBase.From(parameters, FrozenType.Nf4),
        "qlora-q4_0" => QuantizedBase.From(parameters, FrozenType.Q4_0),
        _ => QuantizedBase.From(parameters, FrozenType.Q8_0),
    };
    return LoraTraining.Attach(frozen, lora, options.Seed);
}
