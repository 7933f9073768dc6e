using System.Net;
using System.Text;
using System.Text.Json;
using Camelid.Tests;

namespace Camelid.Server.Tests;

public class StreamingAndCompletionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_chat_stream_is_openai_shaped_role_first_finish_then_usage_then_done()
    {
        var stream = await SseClient.PostAsync(server.Http, "/v1/chat/completions",
            """{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.True(stream.Done);
        var chunks = stream.Chunks;
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("", first.GetProperty("delta").GetProperty("content").GetString());
        // Exactly one chunk finishes the choice; only the last one carries usage, with no choices.
        var finishes = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Where(c => c.GetProperty("finish_reason").ValueKind != JsonValueKind.Null).ToList();
        Assert.Equal("length", Assert.Single(finishes).GetProperty("finish_reason").GetString());
        var last = chunks[^1];
        Assert.Empty(last.GetProperty("choices").EnumerateArray());
        Assert.Equal(10, last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task Without_include_usage_chunks_have_no_usage_field()
    {
        var stream = await SseClient.PostAsync(server.Http, "/v1/chat/completions",
            """{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"stream":true}""");
        Assert.True(stream.Done);
        Assert.All(stream.Chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
    }

    [Fact]
    public async Task Sampled_streams_of_a_random_model_are_valid_utf8_and_match_the_whole_answer()
    {
        // Random weights pick byte tokens and odd pieces freely: the hardest case for UTF-8 safety.
        for (int seed = 0; seed < 4; seed++)
        {
            string body = $$"""{"model":"tiny","messages":[{"role":"user","content":"Écris un poème 🦙"}],"max_tokens":120,"temperature":1.5,"top_k":0,"top_p":1,"min_p":0,"seed":{{seed}}""";
            var stream = await SseClient.PostAsync(server.Http, "/v1/chat/completions", body + ""","stream":true}""");
            using var whole = await server.Http.PostAsync("/v1/chat/completions", new StringContent(body + "}", Encoding.UTF8, "application/json"));
            using var json = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
            Assert.Equal(json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), stream.ChatText);
        }
    }

    [Fact]
    public async Task Completions_accept_strings_token_arrays_echo_n_and_logprobs()
    {
        var tokenizer = server.Server.Registry.Find("tiny")!.Tokenizer;
        int[] tokens = tokenizer.Encode("Once upon a time", addBos: true);
        string body = $$"""{"model":"tiny","prompt":[{{string.Join(",", tokens)}}],"max_tokens":6,"temperature":0,"echo":true,"logprobs":2}""";
        using var json = await PostJson("/v1/completions", body);
        var choice = json.RootElement.GetProperty("choices")[0];
        string text = choice.GetProperty("text").GetString()!;
        Assert.StartsWith("Once upon a time", text);
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(6, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(6, logprobs.GetProperty("token_logprobs").GetArrayLength());
        Assert.All(logprobs.GetProperty("top_logprobs").EnumerateArray(), t => Assert.InRange(t.EnumerateObject().Count(), 1, 2));
        // Offsets point into the returned text (after the echoed prompt).
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToList();
        Assert.Equal("Once upon a time".Length, offsets[0]);
        Assert.Equal(tokens.Length, json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        // Two prompts × n = 2: four choices, prompt-major, with distinct seeds per choice.
        using var many = await PostJson("/v1/completions", """{"model":"tiny","prompt":["Hello","Goodbye"],"n":2,"max_tokens":5,"seed":1,"temperature":1}""");
        var choices = many.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(20, many.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        // Default max_tokens is 16, as OpenAI's.
        using var defaults = await PostJson("/v1/completions", """{"model":"tiny","prompt":"The","temperature":0}""");
        Assert.Equal(16, defaults.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_completion_stream_ends_with_done_and_matches_the_whole_text()
    {
        const string body = """{"model":"tiny","prompt":"A long time ago","max_tokens":20,"temperature":0""";
        var stream = await SseClient.PostAsync(server.Http, "/v1/completions", body + ""","stream":true}""");
        Assert.True(stream.Done);
        string streamed = string.Concat(stream.Chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        using var whole = await PostJson("/v1/completions", body + "}");
        Assert.Equal(whole.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(), streamed);
        Assert.Equal("text_completion", stream.Chunks[0].GetProperty("object").GetString());
    }

    [Fact]
    public async Task Tokenize_and_detokenize_round_trip()
    {
        using var tokenized = await PostJson("/tokenize", """{"model":"tiny","content":"Hello world","add_special":true,"with_pieces":true}""");
        var tokens = tokenized.RootElement.GetProperty("tokens").EnumerateArray().ToList();
        var tokenizer = server.Server.Registry.Find("tiny")!.Tokenizer;
        Assert.Equal(tokenizer.Encode("Hello world", addBos: true), tokens.Select(t => t.GetProperty("id").GetInt32()));
        string ids = string.Join(",", tokens.Skip(1).Select(t => t.GetProperty("id").GetInt32()));
        using var text = await PostJson("/detokenize", $$"""{"model":"tiny","tokens":[{{ids}}]}""");
        Assert.Equal("Hello world", text.RootElement.GetProperty("content").GetString()!.TrimStart());
    }

    [Fact]
    public async Task Metrics_count_requests_and_tokens_in_prometheus_text()
    {
        using (await PostJson("/v1/completions", """{"model":"tiny","prompt":"Count me","max_tokens":3}""")) { }
        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Matches(@"camelid_requests_total\{endpoint=""/v1/completions"",status=""200""\} [1-9]", text);
        Assert.Matches(@"camelid_generated_tokens_total\{model=""tiny""\} [1-9]", text);
        Assert.Contains("camelid_queue_length{model=\"tiny\"} 0", text);
        Assert.Matches(@"camelid_time_to_first_token_seconds_count [1-9]", text);
        Assert.Contains("# TYPE camelid_tokens_per_second histogram", text);
    }

    [Fact]
    public async Task Health_is_ok_once_loaded_and_the_web_ui_is_served()
    {
        using var health = await PostOrGet("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"ok\"", await health.Content.ReadAsStringAsync());
        using var page = await PostOrGet("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }

    Task<HttpResponseMessage> PostOrGet(string path) => server.Http.GetAsync(path);

    async Task<JsonDocument> PostJson(string path, string body)
    {
        using var response = await server.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text);
    }
}
