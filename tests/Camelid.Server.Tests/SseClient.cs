using System.Text;
using System.Text.Json;

namespace Camelid.Server.Tests;

/// <summary>A deliberately strict reader of OpenAI-style Server-Sent Events, to check the wire format itself.</summary>
public static class SseClient
{
    public sealed record Stream(List<JsonElement> Chunks, bool Done, byte[] Raw)
    {
        public string ChatText => string.Concat(Chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : ""));
    }

    public static async Task<Stream> PostAsync(HttpClient http, string path, string body, CancellationToken cancellation = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}", null, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var raw = await response.Content.ReadAsByteArrayAsync(cancellation);
        // Strict UTF-8: a token split inside a multi-byte character must never reach the wire.
        string text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(raw);
        var events = text.Split("\n\n");
        Assert.Equal("", events[^1]); // every event ends with a blank line
        var chunks = new List<JsonElement>();
        bool done = false;
        foreach (var e in events[..^1])
        {
            Assert.StartsWith("data: ", e);
            Assert.DoesNotContain('\n', e);
            Assert.False(done, "nothing may follow data: [DONE]");
            string data = e["data: ".Length..];
            if (data == "[DONE]")
                done = true;
            else
                chunks.Add(JsonDocument.Parse(data).RootElement.Clone());
        }
        return new Stream(chunks, done, raw);
    }
}
