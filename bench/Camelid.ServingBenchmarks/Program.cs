// Serving benchmark: aggregate generated tokens/s and time to first token of `camelid serve` at several
// numbers of concurrent streaming clients, over real HTTP on 127.0.0.1 (the server runs in this process).
//
//   dotnet run -c Release --project bench/Camelid.ServingBenchmarks -- --model MODEL.gguf [--streams 1,4,8]
//        [--max-tokens 128] [--rounds 2] [--repeats 1] [--threads N] [--ctx 512] [--in-process]
//
// With --in-process the same requests go straight to the served model's batcher (template, stops and sampling as the
// endpoint builds them), so the difference from the HTTP figures is what HTTP and the client cost.
// With --engine it measures the engine under the server instead, without HTTP: one decode step of B sequences
// (Transformer.ForwardDecode, B from --streams) and single-sequence decode at context depths (--depths 16,1536),
// each the median of 5 timings of 16 steps.
//
// Every client sends the same kind of request: a short chat message, sampled at temperature 0.8 with its own
// seed (an answer may end early at end-of-text; usage counts exactly what was generated). Wall time includes
// reading the prompts, which the server does one chunk per step between decode steps.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Camelid.Inference.Generation;
using Camelid.Inference.Sampling;
using Camelid.Server.Hosting;
using Camelid.Tokenization.ChatTemplates;

var options = Arguments.Parse(args);
if (options.Engine)
{
    EngineLoops.Run(options);
    return;
}
int maxStreams = options.Streams.Max();
Console.WriteLine($"model {options.Model}, streams {string.Join(",", options.Streams)}, max tokens {options.MaxTokens}, rounds {options.Rounds}, repeats {options.Repeats}, {Environment.ProcessorCount} cores{(options.InProcess ? ", in process (no HTTP)" : "")}");

await using var server = await CamelidServer.StartAsync(new ServeOptions
{
    Models = [new ModelSpec(options.Model, "bench")], Port = 0, Parallel = maxStreams, ContextLength = options.Context,
    Threads = options.Threads, MaxQueue = maxStreams,
}, _ => { });
await server.Loaded;
using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(30) };
var served = server.Registry.Find("bench")!;
Func<int, int, Task<StreamResult>> stream = options.InProcess
    ? (maxTokens, seed) => StreamInProcess(served, maxTokens, seed)
    : (maxTokens, seed) => Stream(http, maxTokens, seed);

await RunRound(stream, streams: 1, maxTokens: 8, seed: 0); // warm-up: JIT and KV caches
// This shared VM's speed drifts by a third within minutes, so with --repeats N the stream counts are measured in
// turn N times (1, 4, 8, 1, 4, 8, ...) and each row reports the median repeat, the ratio being that of medians.
var measured = options.Streams.ToDictionary(s => s, _ => new List<(double Wall, List<StreamResult> Results)>());
for (int repeat = 0; repeat < options.Repeats; repeat++)
    foreach (int streams in options.Streams)
    {
        var results = new List<StreamResult>();
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < options.Rounds; round++)
            results.AddRange(await RunRound(stream, streams, options.MaxTokens, seed: 1000 * streams + round * streams));
        measured[streams].Add((clock.Elapsed.TotalSeconds, results));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"repeat {repeat + 1}, {streams} streams: {results.Sum(r => r.Tokens) / clock.Elapsed.TotalSeconds:F1} tokens/s"));
    }
var table = new List<string>
{
    "| streams | generated tokens | wall s | aggregate tokens/s | per-stream tokens/s | TTFT median s | TTFT max s |",
    "|---|---|---|---|---|---|---|",
};
double? single = null;
foreach (int streams in options.Streams)
{
    var (wall, results) = measured[streams].OrderBy(m => m.Results.Sum(r => r.Tokens) / m.Wall).ElementAt(options.Repeats / 2);
    int tokens = results.Sum(r => r.Tokens);
    double aggregate = tokens / wall;
    single ??= streams == 1 ? aggregate : null;
    var ttft = results.Select(r => r.TimeToFirstToken.TotalSeconds).Order().ToList();
    table.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {streams} | {tokens} | {wall:F1} | {aggregate:F1}{(single is double s && streams > 1 ? $" ({aggregate / s:F2}×)" : "")} | " +
        $"{results.Average(r => r.Tokens / r.Duration.TotalSeconds):F1} | {ttft[ttft.Count / 2]:F2} | {ttft[^1]:F2} |"));
}
Console.WriteLine();
foreach (var line in table)
    Console.WriteLine(line);

static async Task<List<StreamResult>> RunRound(Func<int, int, Task<StreamResult>> stream, int streams, int maxTokens, int seed) =>
    (await Task.WhenAll(Enumerable.Range(0, streams).Select(i => stream(maxTokens, seed + i)))).ToList();

// A short system message keeps the prompt at about 30 tokens: the benchmark is about generation.
static (string System, string User) Conversation(int seed) => ("You tell stories.", $"Write a story about a llama called number {seed}.");

static async Task<StreamResult> Stream(HttpClient http, int maxTokens, int seed)
{
    var (system, user) = Conversation(seed);
    string body = JsonSerializer.Serialize(new
    {
        model = "bench", max_tokens = maxTokens, temperature = 0.8, seed, stream = true, stream_options = new { include_usage = true },
        messages = new[] { new { role = "system", content = system }, new { role = "user", content = user } },
    });
    var clock = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    TimeSpan? first = null;
    int tokens = 0;
    while (await reader.ReadLineAsync() is { } line)
    {
        if (!line.StartsWith("data: ") || line == "data: [DONE]")
            continue;
        using var chunk = JsonDocument.Parse(line[6..]);
        var root = chunk.RootElement;
        if (first == null && root.GetProperty("choices").EnumerateArray().Any(c => c.GetProperty("delta").TryGetProperty("content", out var t) && t.GetString() is { Length: > 0 }))
            first = clock.Elapsed;
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            tokens = usage.GetProperty("completion_tokens").GetInt32();
    }
    return new StreamResult(tokens, first ?? clock.Elapsed, clock.Elapsed);
}

/// <summary>The request the chat endpoint would build from <see cref="Stream"/>'s body, submitted to the batcher directly.</summary>
static async Task<StreamResult> StreamInProcess(ServedModel served, int maxTokens, int seed)
{
    var (system, user) = Conversation(seed);
    var template = served.Template.Template;
    var request = new GenerationRequest
    {
        PromptTokens = template.Encode(served.Tokenizer, [new(ChatRole.System, system), new(ChatRole.User, user)]),
        MaxTokens = maxTokens, Sampling = new SamplingOptions { Temperature = 0.8f, Seed = seed }, StopStrings = template.StopStrings,
    };
    var clock = Stopwatch.StartNew();
    TimeSpan? first = null;
    int tokens = 0;
    await foreach (var update in served.Batcher.Submit(request))
    {
        if (first == null && update.Text.Length > 0)
            first = clock.Elapsed;
        if (update.Summary is { } summary)
            tokens = summary.GeneratedTokens;
    }
    return new StreamResult(tokens, first ?? clock.Elapsed, clock.Elapsed);
}

record StreamResult(int Tokens, TimeSpan TimeToFirstToken, TimeSpan Duration);

record Arguments(string Model, int[] Streams, int MaxTokens, int Rounds, int Repeats, int Threads, int Context, bool Engine, int[] Depths, bool InProcess)
{
    public static Arguments Parse(string[] args)
    {
        string? model = null;
        int[] streams = [1, 4, 8];
        int maxTokens = 128, rounds = 2, repeats = 1, threads = 0, context = 512;
        bool engine = false, inProcess = false;
        int[] depths = [16, 1536];
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--streams": streams = Next().Split(',').Select(int.Parse).ToArray(); break;
                case "--max-tokens": maxTokens = int.Parse(Next()); break;
                case "--rounds": rounds = int.Parse(Next()); break;
                case "--repeats": repeats = int.Parse(Next()); break;
                case "--threads": threads = int.Parse(Next()); break;
                case "--ctx": context = int.Parse(Next()); break;
                case "--engine": engine = true; break;
                case "--in-process": inProcess = true; break;
                case "--depths": depths = Next().Split(',').Select(int.Parse).ToArray(); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (repeats < 1 || rounds < 1 || maxTokens < 1 || streams.Length == 0 || streams.Any(n => n < 1))
            throw new ArgumentException("--streams, --max-tokens, --rounds and --repeats need positive values");
        return new Arguments(model ?? throw new ArgumentException("--model MODEL is required"), streams, maxTokens, rounds, repeats, threads, context, engine, depths, inProcess);
    }
}

/// <summary>The engine's decode costs behind the serving numbers, timed directly (after warm-up steps).</summary>
static class EngineLoops
{
    const int Steps = 16, WarmUp = 4;

    public static void Run(Arguments options)
    {
        using var model = Camelid.Model.LlamaModel.Load(options.Model, new Camelid.Model.ModelLoadOptions { Threads = options.Threads });
        var logits = new float[options.Streams.Max() * model.Config.VocabSize];
        Console.WriteLine($"model {options.Model}, {model.Threads} threads");
        Console.WriteLine("| sequences per decode step | ms per step | tokens/s |");
        Console.WriteLine("|---|---|---|");
        foreach (int batch in options.Streams)
        {
            var caches = Enumerable.Range(0, batch).Select(_ => model.NewKvCache(64)).ToArray();
            foreach (var cache in caches)
                model.Transformer.Forward([1, 2, 3, 4, 5, 6, 7, 8], cache, logits, allLogits: false);
            var tokens = Enumerable.Range(100, batch).ToArray();
            double ms = Time(() => model.Transformer.ForwardDecode(tokens, caches, logits), caches);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {batch} | {ms:F1} | {batch * 1000 / ms:F1} |"));
        }
        Console.WriteLine();
        Console.WriteLine("| context depth | ms per decode step (1 sequence) |");
        Console.WriteLine("|---|---|");
        foreach (int depth in options.Depths)
        {
            var cache = model.NewKvCache(depth + WarmUp + Steps);
            var prompt = Enumerable.Range(0, depth).Select(i => 1 + i % 1000).ToArray();
            for (int start = 0; start < depth; start += 512)
                model.Transformer.Forward(prompt.AsSpan(start, Math.Min(512, depth - start)), cache, logits, allLogits: false);
            double ms = Time(() => model.Transformer.Forward([5], cache, logits, allLogits: false), [cache]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {depth} | {ms:F1} |"));
        }
    }

    /// <summary>Median over <see cref="Repetitions"/> timings of the mean of <see cref="Steps"/> steps, each
    /// repetition from the same cache depths (the caches are cut back after it): a shared VM's neighbours slow
    /// some runs by a third or more, and the median keeps one such run from setting the figure.</summary>
    static double Time(Action step, Camelid.Model.KvCache[] caches)
    {
        for (int i = 0; i < WarmUp; i++)
            step();
        var depths = caches.Select(c => c.Length).ToArray();
        var perStep = new double[Repetitions];
        for (int r = 0; r < Repetitions; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < Steps; i++)
                step();
            perStep[r] = clock.Elapsed.TotalMilliseconds / Steps;
            for (int c = 0; c < caches.Length; c++)
                caches[c].Truncate(depths[c]);
        }
        Array.Sort(perStep);
        return perStep[Repetitions / 2];
    }

    const int Repetitions = 5;
}
