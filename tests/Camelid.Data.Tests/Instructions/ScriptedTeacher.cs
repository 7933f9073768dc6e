using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Camelid.Tests.Teachers;

/// <summary>How a first attempt at a request fails on purpose.</summary>
public enum TeacherFailure { None, RateLimited, ServerError, Slow, TruncatedBody, InvalidJson }

public sealed record ScriptedTeacherOptions
{
    /// <summary>First attempts that fail, in this order, before any other rule (so each mode surely happens).</summary>
    public IReadOnlyList<TeacherFailure> FailFirst { get; init; } = [];

    /// <summary>Fraction of the other first attempts that fail (mode chosen from the request's hash).</summary>
    public double FailureRate { get; init; }

    /// <summary>Seconds sent in Retry-After with a 429.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>How long a "slow" answer takes (longer than the client's timeout).</summary>
    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromSeconds(30); // cut short when the client gives up

    /// <summary>Every answer waits between these many milliseconds (from the request's hash).</summary>
    public int MinLatencyMs { get; init; }
    public int MaxLatencyMs { get; init; }

    /// <summary>Every request is answered with this status (e.g. 401) when set.</summary>
    public int? AlwaysStatus { get; init; }
}

/// <summary>
/// A small OpenAI-compatible server on 127.0.0.1 for tests (ASP.NET Core minimal API on a real socket): answers
/// /v1/chat/completions and /v1/completions with realistic, varied, sometimes malformed numbered task lists
/// (<see cref="ScriptedAnswers"/>), a pure function of the prompt, so the same request always gets the same
/// answer. Failures are injected on first attempts only (a retry of the same request succeeds): 429 with
/// Retry-After, 500, an answer slower than the client's timeout, a body cut short, invalid JSON.
/// </summary>
public sealed class ScriptedTeacher : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ScriptedTeacherOptions _options;
    readonly ConcurrentDictionary<string, int> _attempts = new();
    readonly ConcurrentDictionary<TeacherFailure, int> _injected = new();
    int _forcedIndex = -1, _requests;

    ScriptedTeacher(WebApplication app, ScriptedTeacherOptions options)
    {
        _app = app;
        _options = options;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Requests received, retries included.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Failures injected so far, by mode.</summary>
    public IReadOnlyDictionary<TeacherFailure, int> Injected => _injected;

    public static async Task<ScriptedTeacher> StartAsync(ScriptedTeacherOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var teacher = new ScriptedTeacher(app, options ?? new ScriptedTeacherOptions());
        app.MapPost("/v1/chat/completions", context => teacher.AnswerAsync(context, chat: true));
        app.MapPost("/v1/completions", context => teacher.AnswerAsync(context, chat: false));
        await app.StartAsync();
        teacher.Url = new Uri(app.Urls.First());
        return teacher;
    }

    async Task AnswerAsync(HttpContext context, bool chat)
    {
        Interlocked.Increment(ref _requests);
        string body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        if (_options.AlwaysStatus is { } status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync("{\"error\": {\"message\": \"scripted failure\"}}");
            return;
        }
        var request = JsonNode.Parse(body)!;
        string prompt = chat ? (string)request["messages"]![0]!["content"]! : (string)request["prompt"]!;
        ulong hash = Hash(body);
        int attempt = _attempts.AddOrUpdate(Convert.ToHexString(BitConverter.GetBytes(hash)), 0, (_, n) => n + 1);

        var failure = attempt == 0 ? ChooseFailure(hash) : TeacherFailure.None;
        if (failure != TeacherFailure.None)
            _injected.AddOrUpdate(failure, 1, (_, n) => n + 1);
        if (_options.MaxLatencyMs > 0)
            await Task.Delay(_options.MinLatencyMs + (int)(hash % (ulong)(_options.MaxLatencyMs - _options.MinLatencyMs + 1)));

        switch (failure)
        {
            case TeacherFailure.RateLimited:
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString();
                await context.Response.WriteAsync("{\"error\": {\"message\": \"Rate limit reached\"}}");
                return;
            case TeacherFailure.ServerError:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("{\"error\": {\"message\": \"The server had an error\"}}");
                return;
            case TeacherFailure.Slow:
                try
                {
                    await Task.Delay(_options.SlowDelay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                break;
        }

        var answer = ScriptedAnswers.Answer(prompt);
        var json = Encoding.UTF8.GetBytes(Completion(answer, prompt, request, chat));
        context.Response.ContentType = "application/json";
        if (failure == TeacherFailure.TruncatedBody)
        {
            context.Response.ContentLength = json.Length;
            await context.Response.Body.WriteAsync(json.AsMemory(0, json.Length / 2));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return;
        }
        if (failure == TeacherFailure.InvalidJson)
            json = json.AsSpan(0, json.Length / 3).ToArray(); // a well-delivered body that is not JSON
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json);
    }

    TeacherFailure ChooseFailure(ulong hash)
    {
        int forced = Interlocked.Increment(ref _forcedIndex);
        if (forced < _options.FailFirst.Count)
            return _options.FailFirst[forced];
        if ((hash >> 11) % 1000 < _options.FailureRate * 1000)
            return (TeacherFailure)(1 + (int)((hash >> 33) % 5));
        return TeacherFailure.None;
    }

    static string Completion(ScriptedAnswer answer, string prompt, JsonNode request, bool chat)
    {
        var choice = new JsonObject { ["index"] = 0, ["finish_reason"] = answer.FinishReason };
        if (chat)
            choice["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer.Text };
        else
            choice["text"] = answer.Text;
        var completion = new JsonObject
        {
            ["id"] = "cmpl-scripted",
            ["object"] = chat ? "chat.completion" : "text_completion",
            ["model"] = (string?)request["model"] ?? "",
            ["choices"] = new JsonArray(choice),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = Words(prompt),
                ["completion_tokens"] = Words(answer.Text),
                ["total_tokens"] = Words(prompt) + Words(answer.Text),
            },
        };
        return completion.ToJsonString();
    }

    static int Words(string s) => s.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;

    public static ulong Hash(string text) => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
