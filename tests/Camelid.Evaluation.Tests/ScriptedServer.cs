using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Camelid.Evaluation.Tests;

/// <summary>A chat request as the scripted server saw it.</summary>
public sealed record ChatRequest(string Model, IReadOnlyList<(string Role, string Content)> Messages, double Temperature, int MaxTokens)
{
    public string LastUser => Messages.Last(m => m.Role == "user").Content;
    public string? System => Messages.FirstOrDefault(m => m.Role == "system").Content;
}

/// <summary>
/// An OpenAI-compatible <c>/v1/chat/completions</c> server on a real 127.0.0.1 socket (Kestrel), answering with a
/// script: <see cref="ScriptedModels"/> decides the text from the request. Optionally the first attempt of every
/// n-th request fails (429 with Retry-After, or 500) and every answer waits a little, for the retry and resume tests.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ConcurrentQueue<ChatRequest> _requests = new();
    readonly ConcurrentDictionary<string, int> _attempts = new();
    int _count;

    ScriptedServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Every request received, retries included.</summary>
    public IReadOnlyCollection<ChatRequest> Requests => _requests;

    public int RequestCount => Volatile.Read(ref _count);

    /// <summary>Delay before each answer.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>When &gt; 0, the first attempt of every n-th distinct request fails, alternating 429 and 500.</summary>
    public int FailEvery { get; init; }

    public static async Task<ScriptedServer> StartAsync(TimeSpan latency = default, int failEvery = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ScriptedServer(app) { Latency = latency, FailEvery = failEvery };
        app.MapPost("/v1/chat/completions", server.AnswerAsync);
        await app.StartAsync();
        server.Url = new Uri(app.Urls.First());
        return server;
    }

    async Task AnswerAsync(HttpContext context)
    {
        string body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var json = JsonNode.Parse(body)!;
        var request = new ChatRequest(
            (string)json["model"]!,
            json["messages"]!.AsArray().Select(m => ((string)m!["role"]!, (string)m["content"]!)).ToList(),
            (double)json["temperature"]!, (int)json["max_tokens"]!);
        _requests.Enqueue(request);
        int number = Interlocked.Increment(ref _count);
        int attempt = _attempts.AddOrUpdate(body, 0, (_, n) => n + 1);
        if (Latency > TimeSpan.Zero)
            await Task.Delay(Latency);
        if (FailEvery > 0 && attempt == 0 && number % FailEvery == 0)
        {
            bool rateLimited = number / FailEvery % 2 == 0;
            context.Response.StatusCode = rateLimited ? 429 : 500;
            if (rateLimited)
                context.Response.Headers.RetryAfter = "0";
            await context.Response.WriteAsync("{\"error\": {\"message\": \"scripted failure\"}}");
            return;
        }
        string text = ScriptedModels.Reply(request);
        var completion = new JsonObject
        {
            ["id"] = "chatcmpl-scripted",
            ["object"] = "chat.completion",
            ["model"] = request.Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["finish_reason"] = "stop",
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = request.Messages.Sum(m => Words(m.Content)),
                ["completion_tokens"] = Words(text),
            },
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(completion.ToJsonString(), Encoding.UTF8);
    }

    static int Words(string s) => s.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
