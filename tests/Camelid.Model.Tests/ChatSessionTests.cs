using Camelid.Inference.Chat;
using Camelid.Inference.Sampling;
using Camelid.Model;
using Camelid.Tests;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Model.Tests;

public class ChatSessionTests
{
    const string Gguf = "models/stories260K.gguf";

    static async Task<string> Reply(ChatSession session, string text)
    {
        var answer = new System.Text.StringBuilder();
        await foreach (var update in session.ReplyAsync(text))
            answer.Append(update.Text);
        return answer.ToString();
    }

    [SharedDataFact(Gguf)]
    public async Task LongConversation_DropsTheOldestTurns_TellsTheCaller_AndNeverOverflows()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Gguf));
        var session = new ChatSession(model, ChatTemplates.Get("vicuna"), systemPrompt: "Be brief.", contextLength: 96)
        {
            MaxAnswerTokens = 16,
            Sampling = new SamplingOptions { Temperature = 0 },
        };
        var drops = new List<int>();
        session.HistoryTruncated += drops.Add;

        for (int turn = 0; turn < 8; turn++)
        {
            string answer = await Reply(session, $"Tell me about the dog number {turn}.");
            Assert.Equal(answer.TrimStart(), answer);
            Assert.Equal(answer.Trim(), session.History[^1].Content);
            Assert.Equal($"Tell me about the dog number {turn}.", session.History[^2].Content);
        }

        Assert.NotEmpty(drops);
        Assert.All(drops, d => Assert.Equal(0, d % 2));
        Assert.True(session.History.Count < 16, $"history kept {session.History.Count} messages");
        Assert.Equal(ChatRole.User, session.History[0].Role);
    }

    [ShippedModelFact]
    public async Task ASmallContext_KeepsItsHistory_BecauseAtMostAQuarterIsHeldBackForTheAnswer()
    {
        // Camelid-Nano's 256-token context with the default 512-token answer limit: holding back half (128) would drop
        // the first exchange as soon as the second question comes, since vicuna's default system prompt alone is 60 tokens.
        using var model = LlamaModel.Load(ShippedModelFactAttribute.ModelPath);
        var session = new ChatSession(model, ChatTemplates.Get("vicuna"), systemPrompt: null, contextLength: 256)
        {
            Sampling = new SamplingOptions { Temperature = 0 },
        };
        var drops = new List<int>();
        session.HistoryTruncated += drops.Add;

        await Reply(session, "What is 23 + 45?");
        await Reply(session, "Who are you?");
        await Reply(session, "How many grams are in 3 kilograms?");

        Assert.Empty(drops);
        Assert.Equal(6, session.History.Count);
    }

    [SharedDataFact(Gguf)]
    public async Task AMessageTooLongForTheContext_IsRejected_AndTheHistoryIsUnchanged()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Gguf));
        var session = new ChatSession(model, ChatTemplates.Get("vicuna"), systemPrompt: "Be brief.", contextLength: 64)
        {
            MaxAnswerTokens = 8,
            Sampling = new SamplingOptions { Temperature = 0 },
        };
        await Reply(session, "Hi");
        Assert.Equal(2, session.History.Count);
        await Assert.ThrowsAsync<ContextOverflowException>(() => Reply(session, string.Join(' ', Enumerable.Repeat("a long story", 60))));
        Assert.Equal(2, session.History.Count);
    }

    [SharedDataFact(Gguf)]
    public async Task Reset_ForgetsTheConversation()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Gguf));
        var session = new ChatSession(model, ChatTemplates.Get("vicuna"), systemPrompt: null, contextLength: 256)
        {
            MaxAnswerTokens = 12,
            Sampling = new SamplingOptions { Temperature = 0 },
        };
        string first = await Reply(session, "Hello");
        await Reply(session, "And then?");
        session.Reset();
        Assert.Empty(session.History);
        Assert.Equal(first, await Reply(session, "Hello"));
    }
}
