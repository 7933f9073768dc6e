using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Camelid.Server.Endpoints;

/// <summary>
/// A text/event-stream response as OpenAI sends it: one "data: {json}" event per chunk, flushed at once,
/// ending with "data: [DONE]". Text is serialized as JSON, so a stream is always valid UTF-8.
/// </summary>
sealed class ServerSentEvents
{
    readonly HttpResponse _response;

    ServerSentEvents(HttpResponse response) => _response = response;

    public static ServerSentEvents Begin(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies such as nginx must not hold tokens back
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return new ServerSentEvents(response);
    }

    public async Task SendAsync(object chunk)
    {
        var body = _response.BodyWriter;
        body.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(body))
            JsonSerializer.Serialize(writer, chunk, Json.Options);
        body.Write("\n\n"u8);
        await body.FlushAsync(_response.HttpContext.RequestAborted);
    }

    public async Task DoneAsync()
    {
        _response.BodyWriter.Write("data: [DONE]\n\n"u8);
        await _response.BodyWriter.FlushAsync(_response.HttpContext.RequestAborted);
    }
}

static class Json
{
    /// <summary>
    /// Field names are written as declared (the anonymous objects use OpenAI's snake_case names); nulls are
    /// kept, and text is written as plain UTF-8 rather than \u escapes, as OpenAI sends it.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
