using System.Text;
using System.Text.Json;
using Camelid.Inference.Generation;
using Camelid.Server.Hosting;
using Camelid.Server.Monitoring;
using Camelid.Server.OpenAi;
using Camelid.Tokenization.ChatTemplates;
using Microsoft.AspNetCore.Http;

namespace Camelid.Server.Endpoints;

/// <summary>POST /v1/chat/completions: the conversation through the model's chat template, answered whole or streamed.</summary>
static class ChatCompletionsEndpoint
{
    public static async Task Handle(HttpContext http, ModelRegistry registry, ServerMetrics metrics)
    {
        using var body = await RequestContext.ReadJsonAsync(http.Request);
        var f = new JsonFields(body.RootElement, "");
        var served = RequestContext.ResolveModel(f, registry);
        var messages = ReadMessages(f);
        var parameters = GenerationParameters.Read(f, chat: true);

        int[] prompt;
        try
        {
            prompt = served.Template.Template.Encode(served.Tokenizer, messages);
        }
        catch (ArgumentException e)
        {
            throw ApiException.Invalid("messages", $"these messages do not fit the {served.Template.Template.Name} chat template: {e.Message}");
        }
        int context = served.ContextLength;
        int maxTokens = parameters.MaxTokens ?? context - prompt.Length;
        if (prompt.Length >= context || (long)prompt.Length + maxTokens > context)
            throw ChoiceRunner.ContextTooLong(prompt.Length + Math.Max(maxTokens, 1), context, "messages");

        var stops = parameters.Stop.Concat(served.Template.Template.StopStrings).Distinct().ToArray();
        var requests = Enumerable.Range(0, parameters.N).Select(i => new GenerationRequest
        {
            PromptTokens = prompt, MaxTokens = maxTokens, Sampling = parameters.SamplingFor(i),
            StopStrings = stops, TopLogprobs = parameters.TopLogprobs,
        }).ToList();
        var updates = ChoiceRunner.Start(served, requests, metrics, http.RequestAborted);

        string id = RequestContext.NewId("chatcmpl");
        long created = RequestContext.UnixNow();
        var choices = Enumerable.Range(0, parameters.N).Select(_ => new Choice()).ToArray();
        if (parameters.Stream)
            await StreamAsync(http, served, parameters, updates, choices, id, created, prompt.Length);
        else
        {
            await foreach (var (index, update) in updates)
                choices[index].Add(update);
            var whole = choices.Select((c, i) => new
            {
                index = i,
                message = new { role = "assistant", content = c.Text.ToString(), refusal = (string?)null },
                logprobs = parameters.TopLogprobs != null ? Logprobs(c.Logprobs) : null,
                finish_reason = c.FinishReason,
            });
            await http.Response.WriteAsJsonAsync(ChoiceRunner.Envelope(id, "chat.completion", created, served.Alias, whole, withUsage: true,
                ChoiceRunner.Usage(prompt.Length, choices.Sum(c => c.Generated), choices[0].Cached)), Json.Options);
        }
    }

    static async Task StreamAsync(HttpContext http, ServedModel served, GenerationParameters parameters,
        IAsyncEnumerable<ChoiceUpdate> updates, Choice[] choices, string id, long created, int promptTokens)
    {
        var sse = ServerSentEvents.Begin(http.Response);
        object Chunk(int index, object delta, object? logprobs, string? finish) => ChoiceRunner.Envelope(
            id, "chat.completion.chunk", created, served.Alias, new[] { new { index, delta, logprobs, finish_reason = finish } }, parameters.IncludeUsage);

        for (int i = 0; i < choices.Length; i++)
            await sse.SendAsync(Chunk(i, new { role = "assistant", content = "", refusal = (string?)null }, null, null));
        await foreach (var (index, update) in updates)
        {
            var choice = choices[index];
            int before = choice.Text.Length;
            choice.Add(update);
            string text = choice.Text.ToString(before, choice.Text.Length - before);
            // Logprobs of tokens whose text is still held back travel with the next visible text.
            if (text.Length > 0)
            {
                await sse.SendAsync(Chunk(index, new { content = text },
                    parameters.TopLogprobs != null ? Logprobs(choice.Logprobs.Skip(choice.LogprobsSent).ToList()) : null, null));
                choice.LogprobsSent = choice.Logprobs.Count;
            }
            if (choice.FinishReason != null)
                await sse.SendAsync(Chunk(index, new { }, null, choice.FinishReason));
        }
        if (parameters.IncludeUsage)
            await sse.SendAsync(ChoiceRunner.Envelope(id, "chat.completion.chunk", created, served.Alias, Array.Empty<object>(), withUsage: true,
                ChoiceRunner.Usage(promptTokens, choices.Sum(c => c.Generated), choices[0].Cached)));
        await sse.DoneAsync();
    }

    static object Logprobs(IReadOnlyList<TokenLogprob> tokens) => new
    {
        content = tokens.Select(t => new
        {
            token = t.Text, logprob = t.Logprob, bytes = t.Bytes.Select(b => (int)b),
            top_logprobs = t.Top.Select(a => new { token = a.Text, logprob = a.Logprob, bytes = a.Bytes.Select(b => (int)b) }),
        }),
        refusal = (object?)null,
    };

    /// <summary>One choice's answer as it accumulates; the leading space a template leaves before the answer is dropped.</summary>
    sealed class Choice
    {
        public readonly StringBuilder Text = new();
        public readonly List<TokenLogprob> Logprobs = new();
        public int LogprobsSent;
        public int Generated;
        public int Cached;
        public string? FinishReason;

        public void Add(GenerationUpdate update)
        {
            string text = Text.Length == 0 ? update.Text.TrimStart() : update.Text;
            Text.Append(text);
            if (update.Logprob != null)
                Logprobs.Add(update.Logprob);
            if (update.Summary is { } s)
            {
                Generated = s.GeneratedTokens;
                Cached = s.ReusedPromptTokens;
                FinishReason = ChoiceRunner.FinishReasonText(s.FinishReason);
            }
        }
    }

    /// <summary>
    /// OpenAI messages as template messages: "developer" is a system message; text content parts are joined;
    /// consecutive messages of one role are merged, since chat templates alternate user and assistant.
    /// </summary>
    static List<ChatMessage> ReadMessages(JsonFields f)
    {
        if (f.Get("messages") is not { } array)
            throw ApiException.Missing("messages");
        if (array.ValueKind != JsonValueKind.Array)
            throw ApiException.WrongType("messages", "an array of messages");
        var result = new List<ChatMessage>();
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string path = $"messages[{i++}]";
            var m = new JsonFields(item, path);
            string roleText = m.RequiredString("role");
            var role = roleText switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "tool" or "function" => throw ApiException.Invalid($"{path}.role", $"'{path}.role': tool and function messages are not supported"),
                _ => throw ApiException.Invalid($"{path}.role", $"'{path}.role' must be system, developer, user or assistant (got '{roleText}')"),
            };
            string content = ReadContent(m, path, role);
            if (role == ChatRole.System && result.Any(r => r.Role != ChatRole.System))
                throw ApiException.Invalid($"{path}.role", $"'{path}': a system message may only come before the conversation starts");
            result.AddMerged(role, content);
        }
        if (result.Count == 0)
            throw ApiException.Invalid("messages", "'messages' must contain at least one message");
        if (result[^1].Role != ChatRole.User)
            throw ApiException.Invalid("messages", "the last message must be from the user");
        return result;
    }

    static string ReadContent(JsonFields m, string path, ChatRole role)
    {
        if (m.Get("content") is not { } content)
            return role == ChatRole.Assistant ? "" : throw ApiException.Missing($"{path}.content");
        if (content.ValueKind == JsonValueKind.String)
            return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array)
            throw ApiException.WrongType($"{path}.content", "a string or an array of content parts");
        var text = new StringBuilder();
        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            var p = new JsonFields(part, $"{path}.content[{j}]");
            string type = p.RequiredString("type");
            if (type != "text")
                throw ApiException.Invalid(p.PathOf("type"), $"'{p.PathOf("type")}': only text content is supported (got '{type}')");
            if (text.Length > 0) text.Append('\n');
            text.Append(p.RequiredString("text"));
            j++;
        }
        return text.ToString();
    }
}
