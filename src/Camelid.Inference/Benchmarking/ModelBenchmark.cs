using System.Diagnostics;
using System.Globalization;
using Camelid.Model;
using Camelid.Tensors.Quant;

namespace Camelid.Inference.Benchmarking;

/// <summary>What <see cref="ModelBenchmark.Run"/> measures; llama-bench's defaults.</summary>
public sealed record ModelBenchmarkOptions
{
    /// <summary>Prompt-processing tests: one forward call over this many random tokens each (0: none).</summary>
    public IReadOnlyList<int> PromptLengths { get; init; } = [512];
    /// <summary>Generation tests: this many single-token decode steps each (0: none).</summary>
    public IReadOnlyList<int> GenerationLengths { get; init; } = [128];
    /// <summary>Thread counts; every test runs at each.</summary>
    public IReadOnlyList<int> Threads { get; init; } = [Environment.ProcessorCount];
    /// <summary>Timed repetitions per test, after one untimed warm-up run.</summary>
    public int Repetitions { get; init; } = 5;
    /// <summary>Seed of the random token ids (the values do not change the work, only make runs repeatable).</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Tokenizer for llama2.c checkpoints; without one the tests start with a random token instead of BOS.</summary>
    public string? TokenizerPath { get; init; }

    public void Validate()
    {
        if (PromptLengths.Any(p => p < 0))
            throw new ArgumentException($"-p: prompt lengths must be 0 or more, got {string.Join(",", PromptLengths)}");
        if (GenerationLengths.Any(n => n < 0))
            throw new ArgumentException($"-n: generation lengths must be 0 or more, got {string.Join(",", GenerationLengths)}");
        if (!PromptLengths.Any(p => p > 0) && !GenerationLengths.Any(n => n > 0))
            throw new ArgumentException("nothing to measure: -p and -n are both 0");
        if (Threads.Count == 0 || Threads.Any(t => t < 1))
            throw new ArgumentException($"-t: thread counts must be 1 or more, got {string.Join(",", Threads)}");
        if (Repetitions < 1)
            throw new ArgumentException($"-r: repetitions must be 1 or more, got {Repetitions}");
    }
}

/// <summary>
/// llama-bench for Camelid models. A prompt-processing test (pp) runs one forward call over P random tokens
/// from an empty KV cache; a generation test (tg) runs N single-token decode steps from an empty cache,
/// each fed a random token. Each test first runs untimed (warm-up: page faults of the mapped weights, JIT
/// tiering), repeated until <see cref="WarmUpTime"/> has passed (at least once, at most 50 times), then <see cref="ModelBenchmarkOptions.Repetitions"/>
/// times timed, the cache cleared before each.
/// tokens/s is computed per repetition, then averaged (llama-bench's avg_ts and stddev_ts).
/// </summary>
public static class ModelBenchmark
{
    /// <summary>How long warm-up runs repeat (a run that takes longer is the only one).</summary>
    public static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(2);
    const int MaxWarmUpRuns = 50;

    /// <summary>Runs every test at every thread count, loading the model once per thread count (the compute
    /// pool is fixed at load; the mapping is shared by the OS page cache). Results come as each test ends;
    /// <paramref name="progress"/> hears what is running.</summary>
    public static IEnumerable<ModelBenchmarkResult> Run(string modelPath, ModelBenchmarkOptions options, Action<string>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate(); // now, not at the first MoveNext
        return RunTests(modelPath, options, progress, cancellation);
    }

    static IEnumerable<ModelBenchmarkResult> RunTests(string modelPath, ModelBenchmarkOptions options, Action<string>? progress, CancellationToken cancellation)
    {
        var random = new Random(options.Seed);
        foreach (int threads in options.Threads)
        {
            using var model = LlamaModel.Load(modelPath, new ModelLoadOptions { Threads = threads, TokenizerPath = options.TokenizerPath });
            progress?.Invoke($"loaded {modelPath} with {threads} thread{(threads == 1 ? "" : "s")}");
            if (options.PromptLengths.Concat(options.GenerationLengths).Max() > model.Config.TrainedContextLength)
                progress?.Invoke($"note: the longest test runs past the model's trained context of {model.Config.TrainedContextLength} (speed is still meaningful)");
            foreach (int p in options.PromptLengths.Where(p => p > 0))
                yield return Measure(model, p, 0, options.Repetitions, random, progress, cancellation);
            foreach (int n in options.GenerationLengths.Where(n => n > 0))
                yield return Measure(model, 0, n, options.Repetitions, random, progress, cancellation);
        }
    }

    /// <summary>One test on a loaded model: a prompt of <paramref name="promptTokens"/> in one forward call,
    /// then <paramref name="generatedTokens"/> decode steps, timed together, from an empty cache.</summary>
    public static ModelBenchmarkResult Measure(LlamaModel model, int promptTokens, int generatedTokens, int repetitions,
        Random random, Action<string>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(generatedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        if (promptTokens + generatedTokens == 0)
            throw new ArgumentException("a test needs a prompt or generated tokens");

        string name = $"{ModelBenchmarkResult.TestName(promptTokens, generatedTokens)} with {model.Threads} thread{(model.Threads == 1 ? "" : "s")}";
        string started = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var cache = model.NewKvCache(promptTokens + generatedTokens);
        var logits = new float[model.Config.VocabSize];
        var tokens = new int[promptTokens + generatedTokens];

        progress?.Invoke($"{name}: warm-up");
        // One run is not enough on .NET: the runtime first compiles most methods quickly, unoptimized, and swaps
        // in optimized code only after they have been called for a while, so a short first test (pp8) measured
        // after one warm-up run came out about 35% slow.
        long warmUpStart = Stopwatch.GetTimestamp();
        for (int w = 0; w < MaxWarmUpRuns && (w == 0 || Stopwatch.GetElapsedTime(warmUpStart) < WarmUpTime); w++)
        {
            cancellation.ThrowIfCancellationRequested();
            RunOnce(model, cache, logits, RandomTokens(model, random, tokens), promptTokens);
        }
        var samples = new long[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            cancellation.ThrowIfCancellationRequested();
            progress?.Invoke($"{name}: run {r + 1}/{repetitions}");
            RandomTokens(model, random, tokens);
            cache.Clear();
            long start = Stopwatch.GetTimestamp();
            RunOnce(model, cache, logits, tokens, promptTokens);
            samples[r] = (long)Math.Round(Stopwatch.GetElapsedTime(start).TotalNanoseconds);
        }

        var description = Describe(model);
        return new ModelBenchmarkResult
        {
            CpuInfo = MachineProbe.CpuName(),
            ModelFilename = description.Filename,
            ModelType = description.Type,
            ModelSize = description.SizeBytes,
            ModelParameters = description.Parameters,
            Batch = promptTokens > 0 ? promptTokens : 1,
            Threads = model.Threads,
            PromptTokens = promptTokens,
            GeneratedTokens = generatedTokens,
            TestTime = started,
            SamplesNs = samples,
            GenerationBytesPerToken = promptTokens == 0
                ? (double)(generatedTokens * WeightBytesPerToken(model) + KvCacheBytesRead(model.Config, 0, generatedTokens)) / generatedTokens
                : null,
        };
    }

    static void RunOnce(LlamaModel model, KvCache cache, float[] logits, int[] tokens, int promptTokens)
    {
        cache.Clear();
        if (promptTokens > 0)
            model.Transformer.Forward(tokens.AsSpan(0, promptTokens), cache, logits, allLogits: false);
        for (int i = promptTokens; i < tokens.Length; i++)
            model.Transformer.Forward(tokens.AsSpan(i, 1), cache, logits, allLogits: false);
    }

    /// <summary>Random ids as llama-bench uses, BOS first when the model's tokenizer adds one.</summary>
    static int[] RandomTokens(LlamaModel model, Random random, int[] tokens)
    {
        for (int i = 0; i < tokens.Length; i++)
            tokens[i] = random.Next(model.Config.VocabSize);
        if (tokens.Length > 0 && model.Tokenizer is { AddBosByDefault: true } tok)
            tokens[0] = tok.BosId;
        return tokens;
    }

    /// <summary>Bytes one decode step reads from the weights: every matrix (the output projection too, even when
    /// it is the tied embedding table) and the norm vectors; the embedding lookup reads one row, not counted.</summary>
    public static long WeightBytesPerToken(LlamaModel model)
    {
        var w = model.Weights;
        long bytes = w.Output.Weight.SizeInBytes + w.OutputNorm.Length * sizeof(float);
        foreach (var l in w.Layers)
        {
            foreach (var linear in new[] { l.Wq, l.Wk, l.Wv, l.Wo, l.W1, l.W2, l.W3 })
                bytes += linear.Weight.SizeInBytes;
            bytes += (l.AttentionNorm.Length + l.FfnNorm.Length) * sizeof(float);
        }
        return bytes;
    }

    /// <summary>Keys and values (fp32) that attention reads while <paramref name="tokens"/> tokens are decoded one
    /// at a time after <paramref name="start"/> cached positions: the i-th sees start + i + 1 positions.</summary>
    public static long KvCacheBytesRead(LlamaConfig c, int start, int tokens)
    {
        long positions = (long)tokens * start + (long)tokens * (tokens + 1) / 2;
        return positions * 2 * c.KvDim * sizeof(float) * c.Layers;
    }

    /// <summary>llama-bench's model columns. The type is the storage type holding most weight elements
    /// (the file's own "file type" is not read by every format).</summary>
    public static ModelDescription Describe(LlamaModel model)
    {
        var mainType = model.Tensors.Where(t => t.Shape.Length == 2)
            .GroupBy(t => t.Type)
            .OrderByDescending(g => g.Sum(t => t.ElementCount))
            .Select(g => (GgmlType?)g.Key)
            .FirstOrDefault();
        long parameters = model.ParameterCount;
        string type = $"llama {ParameterLabel(parameters)}{(mainType is { } t ? " " + t : "")}";
        return new ModelDescription(model.Path, type, model.Tensors.Sum(t => t.ByteCount), parameters);
    }

    /// <summary>260K, 15M, 1.1B, 7B: two significant digits at most, as model names do.</summary>
    public static string ParameterLabel(long parameters)
    {
        (double value, string unit) = parameters switch
        {
            >= 1_000_000_000 => (parameters / 1e9, "B"),
            >= 1_000_000 => (parameters / 1e6, "M"),
            >= 1_000 => (parameters / 1e3, "K"),
            _ => ((double)parameters, ""),
        };
        string digits = value >= 10 ? Math.Round(value).ToString(CultureInfo.InvariantCulture) : Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);
        return digits + unit;
    }
}
