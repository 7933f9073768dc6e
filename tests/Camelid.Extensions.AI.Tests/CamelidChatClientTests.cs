using Camelid.Inference.Batching;
using Camelid.Inference.Generation;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Tests;
using Microsoft.Extensions.AI;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatRole = Microsoft.Extensions.AI.ChatRole;
using TemplateMessage = Camelid.Tokenization.ChatTemplates.ChatMessage;
using TemplateRole = Camelid.Tokenization.ChatTemplates.ChatRole;

namespace Camelid.Extensions.AI.Tests;

public class CamelidChatClientTests(StoriesModel stories) : IClassFixture<StoriesModel>
{
    const string Question = "Once upon a time there was a cat. What did the cat do?";
    static readonly ChatOptions Greedy = new() { Temperature = 0 };

    IChatClient Client => stories.Client;

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task A_greedy_answer_is_what_the_single_sequence_generator_answers_to_the_templated_prompt()
    {
        var started = DateTimeOffset.UtcNow;
        var response = await Client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "You tell stories."), new ChatMessage(ChatRole.User, Question)], Greedy);

        var expected = await stories.ReferenceAnswer([new(TemplateRole.System, "You tell stories."), new(TemplateRole.User, Question)]);
        Assert.NotEmpty(expected.Text);
        Assert.Equal(expected.Text, response.Text);
        var message = Assert.Single(response.Messages);
        Assert.Equal(ChatRole.Assistant, message.Role);
        Assert.IsType<TextContent>(Assert.Single(message.Contents));
        Assert.Equal(expected.Prompt.Length, response.Usage!.InputTokenCount);
        Assert.Equal(expected.Summary.GeneratedTokens, response.Usage.OutputTokenCount);
        Assert.Equal(expected.Prompt.Length + expected.Summary.GeneratedTokens, response.Usage.TotalTokenCount);
        Assert.Equal(expected.Summary.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(stories.Client.ModelId, response.ModelId);
        Assert.Equal("stories260K", response.ModelId);
        Assert.StartsWith("chatcmpl-", response.ResponseId);
        Assert.InRange(response.CreatedAt!.Value, started, DateTimeOffset.UtcNow);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task The_prompt_follows_the_servers_mapping_of_roles_instructions_and_repeated_roles()
    {
        var template = stories.Client.Template;
        var tokenizer = stories.Client.Batcher.Model.RequireTokenizer();
        var prompt = stories.Client.EncodePrompt(
            [
                new ChatMessage(new ChatRole("developer"), "Be brief."),
                new ChatMessage(ChatRole.User, "Hi."),
                new ChatMessage(ChatRole.Assistant, "Hello."),
                new ChatMessage(ChatRole.User, [new TextContent("Tell me "), new TextContent("a story.")]),
                new ChatMessage(ChatRole.User, "About a dog."),
            ],
            new ChatOptions { Instructions = "You tell stories." });
        var expected = template.Encode(tokenizer,
        [
            new TemplateMessage(TemplateRole.System, "You tell stories.\n\nBe brief."),
            new TemplateMessage(TemplateRole.User, "Hi."),
            new TemplateMessage(TemplateRole.Assistant, "Hello."),
            new TemplateMessage(TemplateRole.User, "Tell me a story.\n\nAbout a dog."),
        ]);
        Assert.Equal(expected, prompt);

        // An answer added back to the history carries its usage; that is bookkeeping, not conversation.
        var answered = await Client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi.")], new ChatOptions { Temperature = 0, MaxOutputTokens = 5 });
        var history = new List<ChatMessage> { new(ChatRole.User, "Hi.") };
        history.AddRange(answered.Messages);
        history[^1].Contents.Add(new UsageContent(answered.Usage!));
        history.Add(new ChatMessage(ChatRole.User, "And then?"));
        Assert.Equal(template.Encode(tokenizer,
            [new(TemplateRole.User, "Hi."), new(TemplateRole.Assistant, answered.Text), new(TemplateRole.User, "And then?")]),
            stories.Client.EncodePrompt(history));
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Streaming_gives_the_same_text_in_assistant_updates_and_ends_with_the_finish_reason_and_usage()
    {
        List<ChatMessage> conversation = [new(ChatRole.User, Question)];
        var whole = await Client.GetResponseAsync(conversation, Greedy);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in Client.GetStreamingResponseAsync(conversation, Greedy))
            updates.Add(update);

        Assert.True(updates.Count > 2, $"expected the answer in several updates, got {updates.Count}");
        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        Assert.All(updates[..^1], u => Assert.Null(u.FinishReason));
        Assert.Equal(whole.FinishReason, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Same(usage, updates[^1].Contents[^1]);
        Assert.Equal(whole.Usage!.InputTokenCount, usage.Details.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.Equal(whole.Usage.TotalTokenCount, usage.Details.TotalTokenCount);

        // Microsoft.Extensions.AI's own assembly of updates gives back one assistant message and the usage.
        var assembled = updates.ToChatResponse();
        Assert.Equal(whole.Text, assembled.Text);
        Assert.Single(assembled.Messages);
        Assert.Equal(whole.Usage.OutputTokenCount, assembled.Usage!.OutputTokenCount);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task MaxOutputTokens_ends_the_answer_with_Length_after_exactly_that_many_tokens()
    {
        var response = await Client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], new ChatOptions { Temperature = 0, MaxOutputTokens = 7 });
        var expected = await stories.ReferenceAnswer([new(TemplateRole.User, Question)], maxTokens: 7);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(7, response.Usage!.OutputTokenCount);
        Assert.Equal(expected.Text, response.Text);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task A_stop_sequence_cuts_the_answer_before_it()
    {
        List<ChatMessage> conversation = [new(ChatRole.User, Question)];
        var full = await Client.GetResponseAsync(conversation, Greedy);
        var words = full.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string stop = words.Skip(4).First(w => w.Length >= 3 && w.All(char.IsLetter));
        int cut = full.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = await Client.GetResponseAsync(conversation, new ChatOptions { Temperature = 0, StopSequences = [stop] });
        Assert.Equal(full.Text[..cut], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.True(stopped.Usage!.OutputTokenCount < full.Usage!.OutputTokenCount);
        var expected = await stories.ReferenceAnswer([new(TemplateRole.User, Question)], stops: stop);
        Assert.Equal(expected.Text, stopped.Text);
        Assert.Equal(expected.Summary.GeneratedTokens, stopped.Usage.OutputTokenCount);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Cancelling_mid_stream_ends_it_and_frees_the_sequence()
    {
        using var cancel = new CancellationTokenSource();
        int updatesSeen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in Client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, Question)], Greedy, cancel.Token))
            {
                Assert.Null(update.FinishReason);
                if (++updatesSeen == 2)
                    cancel.Cancel();
            }
        });
        Assert.Equal(2, updatesSeen);
        Assert.Equal(0, stories.Client.Batcher.Running);
        Assert.Equal(0, stories.Client.Batcher.Waiting);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Leaving_a_stream_early_frees_the_sequence_and_later_calls_are_unaffected()
    {
        List<ChatMessage> conversation = [new(ChatRole.User, Question)];
        var before = await Client.GetResponseAsync(conversation, Greedy);
        await foreach (var update in Client.GetStreamingResponseAsync(conversation, Greedy))
            break;
        Assert.Equal(0, stories.Client.Batcher.Running);
        var after = await Client.GetResponseAsync(conversation, Greedy);
        Assert.Equal(before.Text, after.Text);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Concurrent_calls_answer_as_they_do_alone()
    {
        string[] questions = [Question, "Lily had a red ball. Where did it go?", "Who is Tim?", "Tell me about the big tree.", "Why was Sam sad?"];
        var alone = new List<string>();
        foreach (var q in questions)
            alone.Add((await Client.GetResponseAsync([new ChatMessage(ChatRole.User, q)], Greedy)).Text);

        // More calls than sequences: the fifth waits for a free one.
        var together = await Task.WhenAll(questions.Select(q => Client.GetResponseAsync([new ChatMessage(ChatRole.User, q)], Greedy)));
        Assert.Equal(alone, together.Select(r => r.Text));
        Assert.True(alone.Distinct().Count() > 1, "different questions should get different answers");
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task A_seed_makes_sampling_repeatable()
    {
        List<ChatMessage> conversation = [new(ChatRole.User, Question)];
        var options = new ChatOptions { Temperature = 1.0f, TopK = 0, TopP = 1, Seed = 1234567890123, MaxOutputTokens = 40 };
        var first = await Client.GetResponseAsync(conversation, options);
        var second = await Client.GetResponseAsync(conversation, options);
        Assert.Equal(first.Text, second.Text);
        var greedy = await Client.GetResponseAsync(conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 40 });
        Assert.NotEqual(greedy.Text, first.Text);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Non_text_content_and_tool_messages_are_refused_as_not_supported()
    {
        var image = new ChatMessage(ChatRole.User, [new TextContent("What is in this picture?"), new DataContent(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "image/png")]);
        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => Client.GetResponseAsync([image]));
        Assert.Contains("DataContent", refused.Message);
        await Assert.ThrowsAsync<NotSupportedException>(async () =>
        {
            await foreach (var _ in Client.GetStreamingResponseAsync([image]))
            {
            }
        });
        await Assert.ThrowsAsync<NotSupportedException>(() => Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "What is the weather?"), new ChatMessage(ChatRole.Tool, "sunny")]));
        await Assert.ThrowsAsync<NotSupportedException>(() => Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "What is the weather?")],
            new ChatOptions { Tools = [AIFunctionFactory.Create(() => "sunny", "weather")] }));
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task A_budget_beyond_the_context_is_refused_naming_both_numbers()
    {
        List<ChatMessage> conversation = [new(ChatRole.User, Question)];
        int prompt = stories.Client.EncodePrompt(conversation).Length;
        int tooMany = StoriesModel.ContextLength - prompt + 1;
        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            Client.GetResponseAsync(conversation, new ChatOptions { MaxOutputTokens = tooMany }));
        Assert.Contains($"{prompt} tokens", refused.Message);
        Assert.Contains($"MaxOutputTokens is {tooMany}", refused.Message);
        Assert.Contains($"context of {StoriesModel.ContextLength}", refused.Message);

        // Exactly the rest of the context is allowed.
        var fits = await Client.GetResponseAsync(conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = tooMany - 1 });
        Assert.True(fits.Usage!.TotalTokenCount <= StoriesModel.ContextLength);

        var longPrompt = string.Join(" ", Enumerable.Repeat("The cat sat on the mat.", 200));
        var overflow = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync([new ChatMessage(ChatRole.User, longPrompt)]));
        Assert.Contains($"context of {StoriesModel.ContextLength}", overflow.Message);
        Assert.Equal(0, stories.Client.Batcher.Waiting);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Conversations_the_template_cannot_write_and_other_models_are_refused()
    {
        var endsWithAnswer = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Hi."), new ChatMessage(ChatRole.Assistant, "Hello.")]));
        Assert.Contains("vicuna", endsWithAnswer.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync([]));
        var otherModel = await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Hi.")], new ChatOptions { ModelId = "gpt-4o" }));
        Assert.Contains("gpt-4o", otherModel.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Hi.")], new ChatOptions { TopP = 0 }));
        var sameModel = await Client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi.")],
            new ChatOptions { ModelId = stories.Client.ModelId, Temperature = 0, MaxOutputTokens = 3 });
        Assert.Equal(3, sameModel.Usage!.OutputTokenCount);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public void GetService_gives_the_metadata_and_the_engine_behind_the_client()
    {
        var metadata = Client.GetService<ChatClientMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("camelid", metadata.ProviderName);
        Assert.Equal("stories260K", metadata.DefaultModelId);
        Assert.Same(stories.Client.Batcher, Client.GetService<ContinuousBatcher>());
        Assert.Same(stories.Client.Template, Client.GetService<ChatTemplate>());
        Assert.Same(stories.Client, Client.GetService<CamelidChatClient>());
        Assert.Null(Client.GetService<ContinuousBatcher>(serviceKey: "other"));
        Assert.Null(Client.GetService<IEmbeddingGenerator<string, Embedding<float>>>());
    }
}
