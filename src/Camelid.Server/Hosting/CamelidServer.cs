using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Camelid.Server.Endpoints;
using Camelid.Server.Monitoring;
using Camelid.Server.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Camelid.Server.Hosting;

/// <summary>A started server: where it listens, its models, and how to stop it.</summary>
public sealed class RunningServer(WebApplication app, ModelRegistry registry, Uri address) : IAsyncDisposable
{
    public Uri Address { get; } = address;
    public ModelRegistry Registry { get; } = registry;
    /// <summary>Completes when every model is loaded; faults when one fails to load.</summary>
    public Task Loaded => Registry.Loaded;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Registry.Dispose();
    }
}

/// <summary>
/// `camelid serve`: Kestrel with the OpenAI-compatible API, llama-server's utility endpoints and the web chat UI.
/// It listens at once and loads the models in the background (/health answers 503 until they are ready).
/// </summary>
public static class CamelidServer
{
    public static async Task<RunningServer> StartAsync(ServeOptions options, Action<string> log, CancellationToken cancellation = default)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        var registry = new ModelRegistry(options);
        var metrics = new ServerMetrics();
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(metrics);

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("camelid.server");
        var keys = options.ApiKeys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
        app.Use((context, next) => HandleErrors(context, next, metrics, logger));
        app.Use((context, next) => RequireKey(context, next, keys));
        MapEndpoints(app);

        await app.StartAsync(cancellation);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        log($"listening on {address.ToString().TrimEnd('/')} (web chat at /, OpenAI API at /v1)");
        _ = Task.Run(() => registry.Load(log), CancellationToken.None);
        return new RunningServer(app, registry, address);
    }

    static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/v1/models", UtilityEndpoints.Models);
        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.Handle);
        app.MapPost("/v1/completions", CompletionsEndpoint.Handle);
        app.MapPost("/v1/embeddings", EmbeddingsEndpoint.Handle);
        app.MapGet("/health", UtilityEndpoints.Health);
        app.MapGet("/metrics", UtilityEndpoints.Metrics);
        app.MapPost("/tokenize", UtilityEndpoints.Tokenize);
        app.MapPost("/detokenize", UtilityEndpoints.Detokenize);
        app.MapGet("/", (HttpContext context) => WebUi(context, "index.html"));
        app.MapGet("/{file}", (HttpContext context, string file) => WebUi(context, file));
        app.MapFallback((HttpContext context) =>
            throw new ApiException(404, $"no such endpoint: {context.Request.Method} {context.Request.Path}", "not_found"));
    }

    static readonly Assembly Self = typeof(CamelidServer).Assembly;

    static IResult WebUi(HttpContext context, string file)
    {
        var stream = Self.GetManifestResourceStream("wwwroot/" + file);
        if (stream == null)
            throw new ApiException(404, $"no such file: /{file}", "not_found");
        // The page renders model output: scripts and styles only from this server, nothing framed or embedded.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
        string type = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            ".png" => "image/png",
            ".ico" => "image/x-icon",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }

    /// <summary>
    /// Every failure becomes an OpenAI-style error: refusals with their 4xx status, Kestrel's own refusals
    /// (oversized or malformed requests) likewise, and anything unexpected a 500 carrying the request id
    /// that is also in the server log.
    /// </summary>
    static async Task HandleErrors(HttpContext context, Func<Task> next, ServerMetrics metrics, ILogger logger)
    {
        string requestId = $"req_{Guid.NewGuid():N}";
        context.Response.Headers["x-request-id"] = requestId;
        try
        {
            await next();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the client went away; its sequences were cancelled with the request
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (ApiException e)
        {
            if (e.Status >= 500)
                logger.LogError("{RequestId} {Method} {Path}: {Message}", requestId, context.Request.Method, context.Request.Path, e.Message);
            await WriteError(context, e);
        }
        catch (BadHttpRequestException e)
        {
            await WriteError(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new ApiException(413, $"the request body is larger than the server accepts ({context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes)", "request_too_large")
                : new ApiException(e.StatusCode, e.Message, "bad_request"));
        }
        catch (Exception e)
        {
            logger.LogError(e, "{RequestId} {Method} {Path} failed", requestId, context.Request.Method, context.Request.Path);
            await WriteError(context, new ApiException(500, $"internal server error (request id {requestId}): {e.Message}", "internal_error", type: "server_error"));
        }
        finally
        {
            string endpoint = context.GetEndpoint()?.DisplayName is { } name && name.StartsWith("HTTP:") ? name.Split(' ')[2] : "other";
            metrics.CountRequest(endpoint, context.Response.StatusCode);
        }
    }

    static async Task WriteError(HttpContext context, ApiException e)
    {
        if (context.Response.HasStarted)
        {
            // A stream is under way: the status is sent already, so the error travels as a last event.
            if (context.Response.ContentType?.StartsWith("text/event-stream") == true)
            {
                try
                {
                    await context.Response.WriteAsync($"data: {System.Text.Json.JsonSerializer.Serialize(ErrorBody(e), Json.Options)}\n\n");
                }
                catch (Exception) when (context.RequestAborted.IsCancellationRequested) { }
            }
            return;
        }
        var requestId = context.Response.Headers["x-request-id"];
        context.Response.Clear();
        context.Response.Headers["x-request-id"] = requestId;
        context.Response.StatusCode = e.Status;
        if (e.RetryAfterSeconds is int seconds)
            context.Response.Headers.RetryAfter = seconds.ToString();
        await context.Response.WriteAsJsonAsync(ErrorBody(e), Json.Options);
    }

    static object ErrorBody(ApiException e) => new { error = new { message = e.Message, type = e.Type, param = e.Param, code = e.Code } };

    /// <summary>"Authorization: Bearer KEY" on the API; the web UI and /health stay open so a browser can ask for the key.</summary>
    static Task RequireKey(HttpContext context, Func<Task> next, byte[][] keys)
    {
        var path = context.Request.Path;
        bool open = keys.Length == 0 || path == "/health" || !(path.StartsWithSegments("/v1") || path == "/tokenize" || path == "/detokenize" || path == "/metrics");
        if (open)
            return next();
        string header = context.Request.Headers.Authorization.ToString();
        string? presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (presented != null)
        {
            // Compare fixed-length digests in constant time: neither the key nor its length leaks through timing.
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
            bool match = false;
            foreach (var key in keys)
                match |= CryptographicOperations.FixedTimeEquals(digest, key);
            if (match)
                return next();
        }
        throw new ApiException(401, presented == null
            ? "Missing API key: send it as 'Authorization: Bearer YOUR_KEY'."
            : "Incorrect API key provided.", "invalid_api_key");
    }
}
