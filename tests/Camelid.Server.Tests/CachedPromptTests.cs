using System.Runtime.Intrinsics.X86;
using System.Text;
using System.Text.RegularExpressions;
using Camelid.Model.Conversion;
using OpenAI.Chat;

namespace Camelid.Server.Tests;

/// <summary>"tiny" quantized with rows the AVX2 kernels take (on such CPUs a cached position equals a recomputed one).</summary>
public sealed class QuantizedServerFixture : ServerFixture
{
    protected override ModelShape TinyShape => ModelShapes.FromJson("""
        {"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 320, "max_position_embeddings": 256, "rms_norm_eps": 1e-5}
        """, "tiny-q8.json");

    protected override LlamaFileType TinyFileType => LlamaFileType.MostlyQ8_0;
}

/// <summary>Prompts that start like an earlier one are read from the cache, reported as OpenAI's cached_tokens.</summary>
public class CachedPromptTests(QuantizedServerFixture server) : IClassFixture<QuantizedServerFixture>
{
    bool Exact()
    {
        bool exact = server.Server.Registry.Find("tiny")!.Batcher.Model.Transformer.PositionsIndependentOfChunking;
        if (Avx2.IsSupported && Fma.IsSupported && !Avx512F.IsSupported)
            Assert.True(exact, "Q8_0 rows of 256 and 512 on an AVX2-only CPU should not depend on chunking");
        return exact;
    }

    [Fact]
    public async Task A_repeated_conversation_reports_its_cached_prompt_tokens_and_answers_the_same()
    {
        bool exact = Exact();
        var chat = server.OpenAi().GetChatClient("tiny");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8 };
        List<ChatMessage> messages = [new SystemChatMessage("You answer in one word."), new UserChatMessage("Which colour is the sky?")];

        var (prompt0, cached0) = await PromptCounters();
        ChatCompletion first = await chat.CompleteChatAsync(messages, options);
        ChatCompletion second = await chat.CompleteChatAsync(messages, options);
        int prompt = first.Usage.InputTokenCount;
        Assert.Equal(prompt, second.Usage.InputTokenCount);
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        // Everything but the last prompt token, which runs again for its logits; where cached positions could differ
        // from recomputed ones, only whole 512-token prefill chunks would be reused, and this prompt is shorter.
        Assert.Equal(exact ? prompt - 1 : 0, second.Usage.InputTokenDetails.CachedTokenCount);

        var (prompt1, cached1) = await PromptCounters();
        Assert.Equal(2 * prompt, prompt1 - prompt0);
        Assert.Equal(first.Usage.InputTokenDetails.CachedTokenCount + second.Usage.InputTokenDetails.CachedTokenCount, cached1 - cached0);
    }

    [Fact]
    public async Task Metrics_count_each_prompt_once_however_many_choices_it_has()
    {
        var tokenizer = server.Server.Registry.Find("tiny")!.Tokenizer;
        int expected = tokenizer.Encode("The llama said", addBos: true).Length + tokenizer.Encode("An alpaca", addBos: true).Length;
        var (prompt0, _) = await PromptCounters();
        using var response = await server.Http.PostAsync("/v1/completions", new StringContent(
            """{"model":"tiny","prompt":["The llama said","An alpaca"],"n":2,"max_tokens":2,"temperature":0}""", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var (prompt1, _) = await PromptCounters();
        Assert.Equal(expected, prompt1 - prompt0);
    }

    async Task<(long Prompt, long Cached)> PromptCounters()
    {
        string metrics = await server.Http.GetStringAsync("/metrics");
        static long Value(string text, string name) =>
            Regex.Match(text, name + @"\{model=""tiny""\} (\d+)") is { Success: true } m ? long.Parse(m.Groups[1].Value) : 0;
        return (Value(metrics, "camelid_prompt_tokens_total"), Value(metrics, "camelid_prompt_tokens_cached_total"));
    }
}
