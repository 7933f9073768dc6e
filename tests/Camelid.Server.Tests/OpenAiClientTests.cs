using System.Text;
using Camelid.Tests;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatMessage = OpenAI.Chat.ChatMessage;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace Camelid.Server.Tests;

/// <summary>The official OpenAI .NET client and Microsoft.Extensions.AI's OpenAI adapter, pointed at camelid serve.</summary>
public class OpenAiClientTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    static ChatCompletionOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokenCount = maxTokens };

    [SharedDataFact("models/stories260K.gguf")]
    public async Task Chat_completion_answers_with_exact_usage_and_finish_reason()
    {
        var chat = server.OpenAi().GetChatClient("stories");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story about a cat.")], Greedy(24));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(24, completion.Usage.OutputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + 24, completion.Usage.TotalTokenCount);
        Assert.Equal("stories", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        string text = completion.Content[0].Text;
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.Equal(text.TrimStart(), text);

        // The prompt token count is the vicuna-templated conversation, tokenized as the engine does.
        var served = server.Server.Registry.Find("stories")!;
        var prompt = served.Template.Template.Encode(served.Tokenizer, [new(Tokenization.ChatTemplates.ChatRole.User, "Tell me a story about a cat.")]);
        Assert.Equal(prompt.Length, completion.Usage.InputTokenCount);
    }

    [Fact]
    public async Task A_streamed_chat_is_the_same_text_as_the_whole_answer()
    {
        var chat = server.OpenAi().GetChatClient("tiny");
        List<ChatMessage> messages = [new SystemChatMessage("You are terse."), new UserChatMessage("Name three colours.")];
        ChatCompletion whole = await chat.CompleteChatAsync(messages, Greedy(40));

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        int updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, Greedy(40)))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
                streamed.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.True(updates > 3, "tokens arrive one event at a time");
        // The OpenAI client asks for include_usage when streaming: the last chunk carries the same usage.
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Stop_sequences_cut_the_answer_before_the_stop_text()
    {
        var chat = server.OpenAi().GetChatClient("tiny");
        List<ChatMessage> messages = [new UserChatMessage("Say something.")];
        string full = (await chat.CompleteChatAsync(messages, Greedy(60))).Value.Content[0].Text;
        Assert.True(full.Length > 12, full);
        string stop = full.Substring(8, 3);
        int at = full.IndexOf(stop, StringComparison.Ordinal);
        var options = Greedy(60);
        options.StopSequences.Add(stop);
        ChatCompletion cut = await chat.CompleteChatAsync(messages, options);
        Assert.Equal(full[..at].TrimStart(), cut.Content.Count == 0 ? "" : cut.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
    }

    [Fact]
    public async Task Logprobs_come_back_for_each_token_with_the_requested_alternatives()
    {
        var chat = server.OpenAi().GetChatClient("tiny");
        var options = Greedy(8);
        options.IncludeLogProbabilities = true;
        options.TopLogProbabilityCount = 3;
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
        Assert.Equal(8, completion.ContentTokenLogProbabilities.Count);
        foreach (var token in completion.ContentTokenLogProbabilities)
        {
            Assert.Equal(3, token.TopLogProbabilities.Count);
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability, 5);
            Assert.True(token.LogProbability <= 0);
        }
    }

    [Fact]
    public async Task Several_choices_with_n_and_a_seed_are_reproducible()
    {
        var body = """{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"n":3,"seed":42,"max_tokens":12,"temperature":1.0}""";
        async Task<string[]> Texts()
        {
            using var response = await server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(36, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            return json.RootElement.GetProperty("choices").EnumerateArray()
                .Select(c => c.GetProperty("index").GetInt32() + ":" + c.GetProperty("message").GetProperty("content").GetString()).ToArray();
        }
        var first = await Texts();
        Assert.Equal(3, first.Length);
        Assert.Equal(3, first.Distinct().Count());
        Assert.Equal(first, await Texts());
    }

    [Fact]
    public async Task Embeddings_are_unit_vectors_of_the_model_width()
    {
        var client = server.OpenAi().GetEmbeddingClient("tiny");
        var result = await client.GenerateEmbeddingsAsync(["a cat", "a dog", "a cat"]);
        var vectors = result.Value.Select(e => e.ToFloats().ToArray()).ToArray();
        Assert.Equal(3, vectors.Length);
        Assert.All(vectors, v => Assert.Equal(server.Server.Registry.Find("tiny")!.Model.Config.Dim, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        Assert.Equal(vectors[0], vectors[2]);
        Assert.NotEqual(vectors[0], vectors[1]);
    }

    [Fact]
    public async Task Models_are_listed_by_alias()
    {
        var models = await server.OpenAi().GetOpenAIModelClient().GetModelsAsync();
        var ids = models.Value.Select(m => m.Id).ToList();
        Assert.Contains("tiny", ids);
        Assert.Equal(ServerFixture.HasStories, ids.Contains("stories"));
        Assert.All(models.Value, m => Assert.Equal("camelid", m.OwnedBy));
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_chat_client_over_the_openai_adapter_works_whole_and_streamed()
    {
        IChatClient client = server.OpenAi().GetChatClient("tiny").AsIChatClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };
        var response = await client.GetResponseAsync("What is a llama?", options);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(20, response.Usage!.OutputTokenCount);
        Assert.False(string.IsNullOrWhiteSpace(response.Text));

        var streamed = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync("What is a llama?", options))
            streamed.Append(update.Text);
        Assert.Equal(response.Text, streamed.ToString());
    }
}
