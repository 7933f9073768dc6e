using System.Net;
using System.Text;
using System.Text.Json;
using Camelid.Server.Hosting;

namespace Camelid.Server.Tests;

/// <summary>Every malformed request gets an OpenAI-shaped error with the right status and code, never a 500.</summary>
public class BadRequestTests(BadRequestTests.KeyedServer server) : IClassFixture<BadRequestTests.KeyedServer>
{
    /// <summary>The same server with an API key and a small body limit.</summary>
    public sealed class KeyedServer : ServerFixture
    {
        public const string Key = "sk-test-123";

        protected override ServeOptions Options(IReadOnlyList<ModelSpec> models) => base.Options(models) with
        {
            ApiKeys = [Key, "second-key"], MaxRequestBodyBytes = 64 * 1024,
        };
    }

    static readonly string LongPrompt = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"" + string.Concat(Enumerable.Repeat("word ", 400)) + "\"}]}";

    const string Ok = """{"role":"user","content":"hi"}""";

    public static TheoryData<string, string, int, string, string?> Cases => new()
    {
        // path, body, status, code, param
        { "/v1/chat/completions", "{not json", 400, "invalid_json", null },
        { "/v1/chat/completions", "[1,2]", 400, "invalid_json", null },
        { "/v1/chat/completions", """{"model":"tiny"}""", 400, "missing_required_parameter", "messages" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[]}""", 400, "invalid_value", "messages" },
        { "/v1/chat/completions", """{"model":"tiny","messages":"hi"}""", 400, "invalid_type", "messages" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[{"content":"hi"}]}""", 400, "missing_required_parameter", "messages[0].role" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[{"role":"wizard","content":"hi"}]}""", 400, "invalid_value", "messages[0].role" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":42}]}""", 400, "invalid_type", "messages[0].content" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", 400, "invalid_value", "messages[0].content[0].type" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}""", 400, "invalid_value", "messages" },
        { "/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"},{"role":"system","content":"late"},{"role":"user","content":"x"}]}""", 400, "invalid_value", "messages[1].role" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"temperature":"hot"}""", 400, "invalid_type", "temperature" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"temperature":3}""", 400, "invalid_value", "temperature" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"top_p":0}""", 400, "invalid_value", "top_p" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"top_k":-1}""", 400, "invalid_value", "top_k" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"max_tokens":0}""", 400, "invalid_value", "max_tokens" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"max_tokens":1.5}""", 400, "invalid_type", "max_tokens" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"max_tokens":100000}""", 400, "context_length_exceeded", "messages" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"max_completion_tokens":99999999999}""", 400, "invalid_value", "max_completion_tokens" },
        { "/v1/chat/completions", LongPrompt, 400, "context_length_exceeded", "messages" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"stop":["a",""]}""", 400, "invalid_value", "stop" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"stop":[1]}""", 400, "invalid_type", "stop[0]" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"n":0}""", 400, "invalid_value", "n" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"stream":"yes"}""", 400, "invalid_type", "stream" },
        { "/v1/chat/completions", $$$"""{"model":"tiny","messages":[{{{Ok}}}],"stream_options":{"include_usage":true}}""", 400, "invalid_value", "stream_options" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"top_logprobs":2}""", 400, "invalid_value", "top_logprobs" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"logprobs":true,"top_logprobs":21}""", 400, "invalid_value", "top_logprobs" },
        { "/v1/chat/completions", $$"""{"model":"tiny","messages":[{{Ok}}],"seed":"x"}""", 400, "invalid_type", "seed" },
        { "/v1/chat/completions", $$"""{"model":"nope","messages":[{{Ok}}]}""", 404, "model_not_found", "model" },
        { "/v1/chat/completions", $$"""{"model":7,"messages":[{{Ok}}]}""", 400, "invalid_type", "model" },
        { "/v1/completions", """{"model":"tiny"}""", 400, "missing_required_parameter", "prompt" },
        { "/v1/completions", """{"model":"tiny","prompt":[]}""", 400, "invalid_value", "prompt" },
        { "/v1/completions", """{"model":"tiny","prompt":[1,999999]}""", 400, "invalid_value", "prompt[1]" },
        { "/v1/completions", """{"model":"tiny","prompt":{"a":1}}""", 400, "invalid_type", "prompt" },
        { "/v1/completions", """{"model":"tiny","prompt":"hi","logprobs":6}""", 400, "invalid_value", "logprobs" },
        { "/v1/completions", """{"model":"tiny","prompt":"hi","max_tokens":-1}""", 400, "invalid_value", "max_tokens" },
        { "/v1/completions", """{"model":"tiny","prompt":["a","b","c","d","e"],"n":4}""", 400, "invalid_value", "n" },
        { "/v1/completions", """{"model":"tiny","prompt":"hi","suffix":"end"}""", 400, "invalid_value", "suffix" },
        { "/v1/embeddings", """{"model":"tiny"}""", 400, "missing_required_parameter", "input" },
        { "/v1/embeddings", """{"model":"tiny","input":""}""", 400, "invalid_value", "input" },
        { "/v1/embeddings", """{"model":"tiny","input":"x","encoding_format":"int8"}""", 400, "invalid_value", "encoding_format" },
        { "/v1/embeddings", """{"model":"tiny","input":"x","dimensions":3}""", 400, "invalid_value", "dimensions" },
        { "/tokenize", """{"model":"tiny"}""", 400, "missing_required_parameter", "content" },
        { "/detokenize", """{"model":"tiny","tokens":[-1]}""", 400, "invalid_value", "tokens[0]" },
        { "/v1/nothing-here", "{}", 404, "not_found", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Malformed_requests_get_the_right_status_code_and_field(string path, string body, int status, string code, string? param)
    {
        using var response = await Send(path, body, KeyedServer.Key);
        await AssertError(response, status, code, param);
    }

    [Theory]
    [InlineData(null, "Missing API key")]
    [InlineData("Bearer wrong-key", "Incorrect API key")]
    [InlineData("Basic c2stdGVzdC0xMjM=", "Missing API key")]
    [InlineData("Bearer sk-test-12", "Incorrect API key")]
    public async Task A_missing_or_wrong_key_is_401(string? authorization, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        if (authorization != null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await server.Http.SendAsync(request);
        var error = await AssertError(response, 401, "invalid_api_key", null);
        Assert.Contains(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Any_configured_key_opens_the_api_while_health_and_the_web_ui_stay_open()
    {
        foreach (var key in new[] { KeyedServer.Key, "second-key" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            request.Headers.Authorization = new("Bearer", key);
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health")).StatusCode);
        var metrics = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
    }

    [Fact]
    public async Task An_oversized_body_is_413()
    {
        string big = $$"""{"model":"tiny","messages":[{"role":"user","content":"{{new string('x', 100 * 1024)}}"}]}""";
        using var response = await Send("/v1/chat/completions", big, KeyedServer.Key);
        await AssertError(response, 413, "request_too_large", null);
    }

    [Fact]
    public async Task Errors_carry_a_request_id_header()
    {
        using var response = await Send("/v1/chat/completions", "{", KeyedServer.Key);
        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single());
    }

    Task<HttpResponseMessage> Send(string path, string body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key != null)
            request.Headers.Authorization = new("Bearer", key);
        return server.Http.SendAsync(request);
    }

    static async Task<JsonElement> AssertError(HttpResponseMessage response, int status, string code, string? param)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("type", out _));
        return error.Clone();
    }
}
