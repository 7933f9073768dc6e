using System.Net;
using System.Text;
using System.Text.Json;
using Camelid.Model.Conversion;
using Camelid.Server.Hosting;
using Camelid.Tests;

namespace Camelid.Server.Tests;

public class ConcurrencyTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    static readonly string[] Prompts =
    [
        "Tell me about the sun.", "Once upon a time", "What is two plus two?", "Write a poem about a dog named Max.",
        "Hello!", "Why is the sky blue? Explain slowly.", "List three fruits.", "The little girl found a key under the old tree and",
    ];

    // Greedy decoding of a random-weight model falls into repeating one token whatever the prompt, which would
    // hide differences; for it, seeded sampling checks the same thing (a token off anywhere changes the rest).
    static string Body(string model, string prompt) => model == "tiny"
        ? JsonSerializer.Serialize(new { model, messages = new[] { new { role = "user", content = prompt } }, max_tokens = 48, temperature = 1.0, seed = prompt.Length, stream = true })
        : JsonSerializer.Serialize(new { model, messages = new[] { new { role = "user", content = prompt } }, max_tokens = 48, temperature = 0, stream = true });

    [Theory]
    [InlineData("tiny")]
    [InlineData("stories")]
    public async Task Eight_simultaneous_streams_return_exactly_what_each_returns_alone(string model)
    {
        if (model == "stories" && !ServerFixture.HasStories)
            return; // covered by the tiny model; stories260K comes from ../shared/data
        var alone = new List<string>();
        foreach (var p in Prompts)
            alone.Add((await SseClient.PostAsync(server.Http, "/v1/chat/completions", Body(model, p))).ChatText);
        Assert.True(alone.Distinct().Count() > 4, "different prompts should give different answers:\n" + string.Join("\n", alone));

        var together = await Task.WhenAll(Prompts.Select(p => SseClient.PostAsync(server.Http, "/v1/chat/completions", Body(model, p))));
        Assert.Equal(alone, together.Select(s => s.ChatText));
        Assert.All(together, s => Assert.True(s.Done));
    }
}

/// <summary>A server with one sequence and no waiting line: the second request at once is 429.</summary>
public class OverloadTests(OverloadTests.SingleSequenceServer server) : IClassFixture<OverloadTests.SingleSequenceServer>
{
    public sealed class SingleSequenceServer : ServerFixture
    {
        // 15M parameters with a 2048-token context: a 1900-token answer takes seconds (a few hundred tokens/s here),
        // so it is still running when the next request comes.
        protected override ModelShape TinyShape
        {
            get
            {
                var shape = ModelShapes.Named["stories15m"];
                return shape with { Config = shape.Config with { TrainedContextLength = 2048 } };
            }
        }
        protected override ServeOptions Options(IReadOnlyList<ModelSpec> models) => base.Options(models) with { Parallel = 1, MaxQueue = 0, ContextLength = 2048 };
    }

    // Greedy, so whether the answer ends early is fixed by the seeded weights (it does not); 1900 tokens take seconds.
    const string Long = """{"model":"tiny","messages":[{"role":"user","content":"Talk."}],"max_tokens":1900,"temperature":0,"stream":true}""";

    [Fact]
    public async Task When_busy_the_server_answers_429_with_retry_after_and_a_disconnect_frees_the_sequence()
    {
        var batcher = server.Server.Registry.Find("tiny")!.Batcher;
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Long, Encoding.UTF8, "application/json") };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        Assert.StartsWith("data: ", await reader.ReadLineAsync(cancel.Token)); // accepted; the batcher takes it at its next step
        var admitted = DateTime.UtcNow.AddSeconds(10);
        while (batcher.Running == 0 && DateTime.UtcNow < admitted)
            await Task.Delay(5);
        Assert.Equal(1, batcher.Running);

        using var refused = await server.Http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":1}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        using (var json = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
            Assert.Equal("server_busy", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, batcher.Running);

        // The client walks away mid-answer: its sequence is freed, and the next request is served.
        cancel.Cancel();
        response.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (batcher.Running > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal(0, batcher.Running);
        using var next = await server.Http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":3}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }
}

/// <summary>
/// Tests that compare the process's managed heap before and after: they run alone, after the parallel
/// classes, since GC.GetTotalMemory also counts what other tests allocate meanwhile.
/// </summary>
[CollectionDefinition(nameof(HeapMeasuringCollection), DisableParallelization = true)]
public class HeapMeasuringCollection;

/// <summary>
/// A bounded load test on loopback: many clients, random cancellations, a small queue. Every request is
/// answered or refused with 429, never a 5xx, and afterwards nothing is left running and memory is back.
/// </summary>
[Collection(nameof(HeapMeasuringCollection))]
public class LoadTests(LoadTests.SmallQueueServer server) : IClassFixture<LoadTests.SmallQueueServer>
{
    public sealed class SmallQueueServer : ServerFixture
    {
        protected override ServeOptions Options(IReadOnlyList<ModelSpec> models) => base.Options(models) with { Parallel = 4, MaxQueue = 8 };
    }

    [Fact]
    public async Task Two_hundred_requests_from_sixteen_clients_with_cancellations_end_cleanly()
    {
        await RunLoad(requests: 24, seed: 99); // warm-up: JIT, caches and pools reach their steady size
        long baseline = SettledMemory();

        var outcomes = await RunLoad(requests: 200, seed: 1);
        Assert.Equal(200, outcomes.Values.Sum());
        Assert.DoesNotContain(outcomes.Keys, k => k.StartsWith('5'));
        Assert.All(outcomes.Keys, k => Assert.Contains(k, new[] { "200", "429", "cancelled" }));
        Assert.True(outcomes.GetValueOrDefault("200") > 0, string.Join(", ", outcomes));

        var batcher = server.Server.Registry.Find("tiny")!.Batcher;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((batcher.Running > 0 || batcher.Waiting > 0) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal(0, batcher.Running);
        Assert.Equal(0, batcher.Waiting);
        long after = SettledMemory();
        Assert.True(after - baseline < 32 << 20, $"managed memory grew from {baseline >> 20} MiB to {after >> 20} MiB");
    }

    async Task<Dictionary<string, int>> RunLoad(int requests, int seed)
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async client =>
        {
            var random = new Random(seed * 100 + client);
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                bool stream = random.Next(2) == 0;
                string body = JsonSerializer.Serialize(new
                {
                    model = "tiny", messages = new[] { new { role = "user", content = $"Request {i}: say something." } },
                    max_tokens = random.Next(1, 60), stream, temperature = 0.7, seed = i,
                });
                using var cancel = new CancellationTokenSource();
                if (random.Next(4) == 0)
                    cancel.CancelAfter(random.Next(1, 80)); // a client that gives up mid-request
                string outcome;
                try
                {
                    using var response = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                    { Content = new StringContent(body, Encoding.UTF8, "application/json") }, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
                    await response.Content.ReadAsStringAsync(cancel.Token);
                    outcome = ((int)response.StatusCode).ToString();
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                        await Task.Delay(100); // a polite client backs off (the server says Retry-After: 1)
                }
                catch (OperationCanceledException)
                {
                    outcome = "cancelled";
                }
                outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            }
        }));
        return outcomes.ToDictionary();
    }

    static long SettledMemory()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
