// Serving benchmark: aggregate generated tokens/s and time to first token of `camelid serve` at several
// numbers of concurrent streaming clients, over real HTTP on 127.0.0.1 (the server runs in this process).
//
//   dotnet run -c Release --project bench/Camelid.ServingBenchmarks -- --model MODEL.gguf [--streams 1,4,8]
//        [--max-tokens 128] [--rounds 2] [--threads N] [--ctx 512]
//
// Every client sends the same kind of request: a short chat message, sampled at temperature 0.8 with its own
// seed (an answer may end early at end-of-text; usage counts exactly what was generated). Wall time includes
// reading the prompts, which the server does one chunk per step between decode steps.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Camelid.Server.Hosting;

var options = Arguments.Parse(args);
int maxStreams = options.Streams.Max();
Console.WriteLine($"model {options.Model}, streams {string.Join(",", options.Streams)}, max tokens {options.MaxTokens}, rounds {options.Rounds}, {Environment.ProcessorCount} cores");

await using var server = await CamelidServer.StartAsync(new ServeOptions
{
    Models = [new ModelSpec(options.Model, "bench")], Port = 0, Parallel = maxStreams, ContextLength = options.Context,
    Threads = options.Threads, MaxQueue = maxStreams,
}, _ => { });
await server.Loaded;
using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(30) };

await RunRound(http, streams: 1, maxTokens: 8, seed: 0); // warm-up: JIT and KV caches
var table = new List<string>
{
    "| streams | generated tokens | wall s | aggregate tokens/s | per-stream tokens/s | TTFT median s | TTFT max s |",
    "|---|---|---|---|---|---|---|",
};
double? single = null;
foreach (int streams in options.Streams)
{
    var results = new List<StreamResult>();
    var clock = Stopwatch.StartNew();
    for (int round = 0; round < options.Rounds; round++)
        results.AddRange(await RunRound(http, streams, options.MaxTokens, seed: 1000 * streams + round * streams));
    double wall = clock.Elapsed.TotalSeconds;
    int tokens = results.Sum(r => r.Tokens);
    double aggregate = tokens / wall;
    single ??= streams == 1 ? aggregate : null;
    var ttft = results.Select(r => r.TimeToFirstToken.TotalSeconds).Order().ToList();
    table.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {streams} | {tokens} | {wall:F1} | {aggregate:F1}{(single is double s && streams > 1 ? $" ({aggregate / s:F2}×)" : "")} | " +
        $"{results.Average(r => r.Tokens / r.Duration.TotalSeconds):F1} | {ttft[ttft.Count / 2]:F2} | {ttft[^1]:F2} |"));
    Console.WriteLine(table[^1]);
}
Console.WriteLine();
foreach (var line in table)
    Console.WriteLine(line);

static async Task<List<StreamResult>> RunRound(HttpClient http, int streams, int maxTokens, int seed) =>
    (await Task.WhenAll(Enumerable.Range(0, streams).Select(i => Stream(http, maxTokens, seed + i)))).ToList();

static async Task<StreamResult> Stream(HttpClient http, int maxTokens, int seed)
{
    string body = JsonSerializer.Serialize(new
    {
        model = "bench", max_tokens = maxTokens, temperature = 0.8, seed, stream = true, stream_options = new { include_usage = true },
        // A short system message keeps the prompt at about 30 tokens: the benchmark is about generation.
        messages = new[]
        {
            new { role = "system", content = "You tell stories." },
            new { role = "user", content = $"Write a story about a llama called number {seed}." },
        },
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

record StreamResult(int Tokens, TimeSpan TimeToFirstToken, TimeSpan Duration);

record Arguments(string Model, int[] Streams, int MaxTokens, int Rounds, int Threads, int Context)
{
    public static Arguments Parse(string[] args)
    {
        string? model = null;
        int[] streams = [1, 4, 8];
        int maxTokens = 128, rounds = 2, threads = 0, context = 512;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--streams": streams = Next().Split(',').Select(int.Parse).ToArray(); break;
                case "--max-tokens": maxTokens = int.Parse(Next()); break;
                case "--rounds": rounds = int.Parse(Next()); break;
                case "--threads": threads = int.Parse(Next()); break;
                case "--ctx": context = int.Parse(Next()); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        return new Arguments(model ?? throw new ArgumentException("--model MODEL is required"), streams, maxTokens, rounds, threads, context);
    }
}
