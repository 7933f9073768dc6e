using System.Runtime.Intrinsics.X86;
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
    [Fact]
    public async Task A_repeated_conversation_reports_its_cached_prompt_tokens_and_answers_the_same()
    {
        var served = server.Server.Registry.Find("tiny")!;
        bool exact = served.Batcher.Model.Transformer.PositionsIndependentOfChunking;
        if (Avx2.IsSupported && Fma.IsSupported && !Avx512F.IsSupported)
            Assert.True(exact, "Q8_0 rows of 256 and 512 on an AVX2-only CPU should not depend on chunking");
        var chat = server.OpenAi().GetChatClient("tiny");
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8 };
        List<ChatMessage> messages = [new SystemChatMessage("You answer in one word."), new UserChatMessage("Which colour is the sky?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, options);
        ChatCompletion second = await chat.CompleteChatAsync(messages, options);
        int prompt = first.Usage.InputTokenCount;
        Assert.Equal(prompt, second.Usage.InputTokenCount);
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        // Everything but the last prompt token, which runs again for its logits; where cached positions could differ
        // from recomputed ones, only whole 512-token prefill chunks would be reused, and this prompt is shorter.
        Assert.Equal(exact ? prompt - 1 : 0, second.Usage.InputTokenDetails.CachedTokenCount);
    }
}
