using System.Text;
using System.Text.Json;
using Camelid.Inference.Generation;
using Camelid.Server.Hosting;
using Camelid.Server.Monitoring;
using Camelid.Server.OpenAi;
using Camelid.Tokenization;
using Microsoft.AspNetCore.Http;

namespace Camelid.Server.Endpoints;

/// <summary>POST /v1/completions: plain continuation of one or more prompts (OpenAI's legacy completions API).</summary>
static class CompletionsEndpoint
{
    public static async Task Handle(HttpContext http, ModelRegistry registry, ServerMetrics metrics)
    {
        using var body = await RequestContext.ReadJsonAsync(http.Request);
        var f = new JsonFields(body.RootElement, "");
        var served = RequestContext.ResolveModel(f, registry);
        var prompts = ReadPrompts(f, served.Tokenizer);
        var parameters = GenerationParameters.Read(f, chat: false);
        if (f.String("suffix") is { Length: > 0 })
            throw ApiException.Invalid("suffix", "'suffix' (fill-in-the-middle) is not supported by LLaMA chat models");

        int context = served.ContextLength, maxTokens = parameters.MaxTokens!.Value;
        foreach (var p in prompts)
            if (p.Length >= context || (long)p.Length + maxTokens > context)
                throw ChoiceRunner.ContextTooLong(p.Length + Math.Max(maxTokens, 1), context, "prompt");

        int n = parameters.N;
        if (prompts.Count * n > GenerationParameters.MaxChoices)
            throw ApiException.Invalid("n", $"prompts × n may be at most {GenerationParameters.MaxChoices} (got {prompts.Count} × {n})");
        var requests = new List<GenerationRequest>();
        foreach (var p in prompts)
            for (int i = 0; i < n; i++)
                requests.Add(new GenerationRequest
                {
                    PromptTokens = p, MaxTokens = maxTokens, Sampling = parameters.SamplingFor(i),
                    StopStrings = parameters.Stop, TopLogprobs = parameters.TopLogprobs,
                });
        var updates = ChoiceRunner.Start(served, requests, metrics, http.RequestAborted);

        string id = RequestContext.NewId("cmpl");
        long created = RequestContext.UnixNow();
        var choices = requests.Select(r => new Choice(parameters.Echo ? served.Tokenizer.Decode(r.PromptTokens.ToArray()) : "")).ToArray();
        int promptTokens = prompts.Sum(p => p.Length);
        if (parameters.Stream)
        {
            var sse = ServerSentEvents.Begin(http.Response);
            object Chunk(int index, string text, object? logprobs, string? finish) => ChoiceRunner.Envelope(
                id, "text_completion", created, served.Alias, new[] { new { text, index, logprobs, finish_reason = finish } }, parameters.IncludeUsage);
            if (parameters.Echo)
                for (int i = 0; i < choices.Length; i++)
                    await sse.SendAsync(Chunk(i, choices[i].Text.ToString(), null, null));
            await foreach (var (index, update) in updates)
            {
                var c = choices[index];
                int before = c.Text.Length, tokensBefore = c.Logprobs.Count;
                c.Add(update);
                string text = c.Text.ToString(before, c.Text.Length - before);
                if (text.Length > 0 || c.FinishReason != null)
                    await sse.SendAsync(Chunk(index, text, parameters.TopLogprobs != null ? Logprobs(c.Logprobs.Skip(tokensBefore).ToList(), before) : null, c.FinishReason));
            }
            if (parameters.IncludeUsage)
                await sse.SendAsync(ChoiceRunner.Envelope(id, "text_completion", created, served.Alias, Array.Empty<object>(), withUsage: true,
                    ChoiceRunner.Usage(promptTokens, choices.Sum(c => c.Generated), CachedPromptTokens(choices, n))));
            await sse.DoneAsync();
            return;
        }
        await foreach (var (index, update) in updates)
            choices[index].Add(update);
        var whole = choices.Select((c, i) => new
        {
            text = c.Text.ToString(), index = i,
            logprobs = parameters.TopLogprobs != null ? Logprobs(c.Logprobs, c.EchoLength) : null,
            finish_reason = c.FinishReason,
        });
        await http.Response.WriteAsJsonAsync(ChoiceRunner.Envelope(id, "text_completion", created, served.Alias, whole, withUsage: true,
            ChoiceRunner.Usage(promptTokens, choices.Sum(c => c.Generated), CachedPromptTokens(choices, n))), Json.Options);
    }

    /// <summary>Cached tokens of each prompt once (its first choice's), as prompt_tokens counts each prompt once.</summary>
    static int CachedPromptTokens(Choice[] choices, int n) => choices.Where((_, i) => i % n == 0).Sum(c => c.Cached);

    /// <summary>The legacy logprobs shape: parallel arrays of tokens, their logprobs, the top alternatives and text offsets.</summary>
    static object Logprobs(IReadOnlyList<TokenLogprob> tokens, int textOffset)
    {
        var offsets = new List<int>();
        foreach (var t in tokens)
        {
            offsets.Add(textOffset);
            textOffset += t.Text.Length;
        }
        return new
        {
            tokens = tokens.Select(t => t.Text),
            token_logprobs = tokens.Select(t => t.Logprob),
            top_logprobs = tokens.Select(t => t.Top.GroupBy(a => a.Text).ToDictionary(g => g.Key, g => g.First().Logprob)),
            text_offset = offsets,
        };
    }

    sealed class Choice(string echo)
    {
        public readonly StringBuilder Text = new(echo);
        public readonly int EchoLength = echo.Length;
        public readonly List<TokenLogprob> Logprobs = new();
        public int Generated;
        public int Cached;
        public string? FinishReason;

        public void Add(GenerationUpdate update)
        {
            Text.Append(update.Text);
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

    /// <summary>"prompt": a string, an array of strings, an array of token ids, or an array of such arrays.</summary>
    static List<int[]> ReadPrompts(JsonFields f, Tokenizer tokenizer)
    {
        if (f.Get("prompt") is not { } prompt)
            throw ApiException.Missing("prompt");
        int[] Encode(string text) => text.Length == 0 ? [tokenizer.BosId] : tokenizer.Encode(text, addBos: tokenizer.AddBosByDefault, parseSpecial: true);
        int[] Tokens(JsonElement array, string path)
        {
            var ids = new List<int>();
            int i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                    throw ApiException.WrongType($"{path}[{i}]", "a token id (integer)");
                if (id < 0 || id >= tokenizer.VocabSize)
                    throw ApiException.Invalid($"{path}[{i}]", $"'{path}[{i}]': token id {id} is outside the vocabulary (0..{tokenizer.VocabSize - 1})");
                ids.Add(id);
                i++;
            }
            if (ids.Count == 0)
                throw ApiException.Invalid(path, $"'{path}' must not be empty");
            return ids.ToArray();
        }

        if (prompt.ValueKind == JsonValueKind.String)
            return [Encode(prompt.GetString()!)];
        if (prompt.ValueKind != JsonValueKind.Array)
            throw ApiException.WrongType("prompt", "a string, an array of strings or an array of token ids");
        var items = prompt.EnumerateArray().ToList();
        if (items.Count == 0)
            throw ApiException.Invalid("prompt", "'prompt' must not be empty");
        if (items.All(e => e.ValueKind == JsonValueKind.Number))
            return [Tokens(prompt, "prompt")];
        var prompts = new List<int[]>();
        for (int i = 0; i < items.Count; i++)
            prompts.Add(items[i].ValueKind switch
            {
                JsonValueKind.String => Encode(items[i].GetString()!),
                JsonValueKind.Array => Tokens(items[i], $"prompt[{i}]"),
                _ => throw ApiException.WrongType($"prompt[{i}]", "a string or an array of token ids"),
            });
        return prompts;
    }
}
