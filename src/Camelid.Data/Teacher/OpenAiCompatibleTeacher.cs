using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Timeout;

namespace Camelid.Data.Teacher;

/// <summary>
/// A teacher behind any OpenAI-compatible server (hosted APIs, vLLM, llama.cpp's server, <c>camelid serve</c>).
/// Each call is one prompt: it waits for a slot (<see cref="TeacherOptions.Concurrency"/>) and for the rate
/// limiter, sends the request, and retries transient failures (<see cref="TeacherRetryPolicy"/>). Counters are
/// kept for the progress line. Thread-safe.
/// </summary>
public sealed class OpenAiCompatibleTeacher : ITeacher, IDisposable
{
    const int MaxErrorBodyChars = 300;

    readonly TeacherOptions _options;
    readonly HttpClient _http;
    readonly Uri _route;
    readonly SemaphoreSlim _slots;
    readonly RequestPacer? _pacer;
    readonly ResiliencePipeline<TeacherCompletion> _pipeline;
    long _attempts, _retries, _completions, _promptTokens, _completionTokens;

    /// <param name="handler">The HTTP stack; tests pass their own. Owned by this object.</param>
    public OpenAiCompatibleTeacher(TeacherOptions options, HttpMessageHandler? handler = null)
    {
        options.Validate();
        _options = options;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = Timeout.InfiniteTimeSpan, // the pipeline times each attempt
        };
        _route = Route(options.BaseUrl, options.Endpoint);
        _slots = new SemaphoreSlim(options.Concurrency, options.Concurrency);
        if (options.RequestsPerMinute > 0)
            _pacer = new RequestPacer(options.RequestsPerMinute);
        _pipeline = TeacherRetryPolicy.Build(options, _ => Interlocked.Increment(ref _retries));
    }

    /// <summary>The URL requests go to.</summary>
    public Uri RouteUrl => _route;

    /// <summary>HTTP attempts started, retries included.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Prompts answered.</summary>
    public long Completions => Interlocked.Read(ref _completions);

    /// <summary>Tokens of all answered prompts, from the responses' <c>usage</c>.</summary>
    public TeacherUsage Usage => new(Interlocked.Read(ref _promptTokens), Interlocked.Read(ref _completionTokens));

    /// <summary>
    /// "http://host:8080" → …/v1/chat/completions; "…/v1" → …/v1/chat/completions; a URL that already ends
    /// in /completions is used as it is.
    /// </summary>
    public static Uri Route(Uri baseUrl, TeacherEndpoint endpoint)
    {
        string url = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (url.EndsWith("/completions", StringComparison.Ordinal))
            return new Uri(url);
        string tail = endpoint == TeacherEndpoint.Chat ? "chat/completions" : "completions";
        return new Uri(url.EndsWith("/v1", StringComparison.Ordinal) ? $"{url}/{tail}" : $"{url}/v1/{tail}");
    }

    public async Task<TeacherCompletion> CompleteAsync(TeacherRequest request, CancellationToken cancellation)
    {
        byte[] body = RequestBody(request);
        try
        {
            var completion = await _pipeline.ExecuteAsync(async token => await AttemptAsync(body, token), cancellation);
            Interlocked.Increment(ref _completions);
            Interlocked.Add(ref _promptTokens, completion.Usage.PromptTokens);
            Interlocked.Add(ref _completionTokens, completion.Usage.CompletionTokens);
            return completion;
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            throw new TeacherException(FailureMessage(e), e);
        }
    }

    string FailureMessage(Exception e)
    {
        string role = _options.Role;
        if (e is TeacherHttpException { IsTransient: false } refused)
            return $"the {role} at {_route} refused the request: {refused.Message}{Hint(refused.Status)}";
        string what = e switch
        {
            HttpRequestException { InnerException: System.Net.Sockets.SocketException s } =>
                $"cannot reach the {role} at {_route}: {s.Message} (is the server running? check {_options.UrlOption})",
            HttpRequestException h => $"cannot reach the {role} at {_route}: {h.Message}",
            TimeoutRejectedException => $"the {role} at {_route} did not answer within {_options.RequestTimeout.TotalSeconds:0.###} s (--request-timeout)",
            _ => $"the {role} at {_route} failed: {e.Message}",
        };
        return TeacherRetryPolicy.IsTransient(e) ? $"{what}; gave up after {_options.MaxRetries + 1} attempts" : what;
    }

    async Task<TeacherCompletion> AttemptAsync(byte[] body, CancellationToken cancellation)
    {
        await _slots.WaitAsync(cancellation);
        try
        {
            if (_pacer != null)
                await _pacer.WaitAsync(cancellation);
            Interlocked.Increment(ref _attempts);
            using var message = new HttpRequestMessage(HttpMethod.Post, _route) { Content = new ByteArrayContent(body) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (!string.IsNullOrEmpty(_options.ApiKey))
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellation);
            string text = await response.Content.ReadAsStringAsync(cancellation);
            if (!response.IsSuccessStatusCode)
                throw new TeacherHttpException(response.StatusCode, TeacherRetryPolicy.RetryAfter(response.Headers.RetryAfter, DateTimeOffset.UtcNow),
                                               ErrorSnippet(text));
            return Parse(text, _options.Endpoint, _options.Role, _options.EndpointOption);
        }
        finally
        {
            _slots.Release();
        }
    }

    byte[] RequestBody(TeacherRequest request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", _options.Model);
            if (_options.Endpoint == TeacherEndpoint.Chat)
            {
                var messages = request.Messages.Count > 0 ? request.Messages : [new TeacherMessage("user", request.Prompt)];
                json.WriteStartArray("messages");
                foreach (var message in messages)
                {
                    json.WriteStartObject();
                    json.WriteString("role", message.Role);
                    json.WriteString("content", message.Content);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            else if (request.Messages.Count > 0)
                throw new ArgumentException("a conversation (system, user and assistant messages) needs the chat endpoint, not /v1/completions");
            else
                json.WriteString("prompt", request.Prompt);
            json.WriteNumber("temperature", request.Temperature);
            json.WriteNumber("top_p", request.TopP);
            json.WriteNumber("max_tokens", request.MaxTokens);
            if (request.PresencePenalty != 0)
                json.WriteNumber("presence_penalty", request.PresencePenalty);
            if (request.Stop.Count > 0)
            {
                json.WriteStartArray("stop");
                foreach (var s in request.Stop.Take(4)) // OpenAI accepts at most 4
                    json.WriteStringValue(s);
                json.WriteEndArray();
            }
            if (request.Seed is { } seed)
                json.WriteNumber("seed", seed);
            json.WriteNumber("n", 1);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reads the first choice's text and finish reason and the usage; anything else is a <see cref="TeacherResponseException"/>.</summary>
    /// <param name="role">What the server is called in the messages.</param>
    /// <param name="endpointOption">The option that switches route, suggested when the answer has the other route's shape; null when there is none.</param>
    public static TeacherCompletion Parse(string body, TeacherEndpoint endpoint, string role = "teacher", string? endpointOption = "--endpoint")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new TeacherResponseException($"the {role}'s answer is not valid JSON ({body.Length} characters; {e.Message.Split(" Path:")[0]})", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices)
                || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
                throw new TeacherResponseException($"the {role}'s answer has no \"choices\"");
            var choice = choices[0];
            string? text = endpoint == TeacherEndpoint.Chat
                ? choice.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object && m.TryGetProperty("content", out var c)
                  && c.ValueKind == JsonValueKind.String ? c.GetString() : null
                : choice.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (text == null)
                throw new TeacherResponseException(endpoint == TeacherEndpoint.Chat
                    ? $"the {role}'s answer has no choices[0].message.content (is this a /v1/completions server? " +
                      (endpointOption != null ? $"try {endpointOption} completions)" : "this command needs /v1/chat/completions)")
                    : $"the {role}'s answer has no choices[0].text (is this a chat server? " +
                      (endpointOption != null ? $"try {endpointOption} chat)" : "this command needs /v1/completions)"));
            string finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "stop";
            var usage = default(TeacherUsage);
            if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
                usage = new TeacherUsage(Count(u, "prompt_tokens"), Count(u, "completion_tokens"));
            return new TeacherCompletion(text, finish, usage);
        }
    }

    static long Count(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : 0;

    string Hint(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => " (check --api-key or OPENAI_API_KEY)",
        HttpStatusCode.NotFound => $" (check {Listed(_options.UrlOption, _options.ModelOption, _options.EndpointOption)})",
        _ => "",
    };

    /// <summary>"a and b", "a, b and c": the options a hint names, leaving out those the command does not have.</summary>
    static string Listed(params string?[] options)
    {
        string[] named = [.. options.OfType<string>()];
        return named.Length <= 1 ? string.Concat(named) : $"{string.Join(", ", named[..^1])} and {named[^1]}";
    }

    static string ErrorSnippet(string body)
    {
        string oneLine = string.Join(' ', body.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return oneLine.Length <= MaxErrorBodyChars ? oneLine : oneLine[..MaxErrorBodyChars] + "…";
    }

    public void Dispose()
    {
        _http.Dispose();
        _slots.Dispose();
    }
}
