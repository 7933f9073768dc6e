using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

public class StreamingDecoderTests
{
    static List<string> PushAll(StreamingDecoder decoder, IEnumerable<int> ids)
    {
        var outputs = ids.Select(decoder.Push).ToList();
        outputs.Add(decoder.Flush());
        return outputs;
    }

    static bool HasBrokenText(string s) =>
        s.Contains('\uFFFD') || s.Where((c, i) => char.IsHighSurrogate(c) ? i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])
                                                                          : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1]))).Any();

    [SharedDataFact(Llama2Model)]
    public void Emoji_SplitOverByteTokens_IsEmittedWhenComplete()
    {
        var tokenizer = Get("model", Llama2Model);
        // "🦙" = ▁ <0xF0> <0x9F> <0xA6> <0x99> (byte token id = 3 + byte)
        int[] ids = [29871, 3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99];
        Assert.Equal(ids, tokenizer.Encode("🦙", addBos: false));
        Assert.Equal(["", "", "", "", "🦙", ""], PushAll(new StreamingDecoder(tokenizer), ids));
    }

    [SharedDataFact(Llama2Model)]
    public void EveryFixtureText_PushedOneByOne_EqualsDecode_WithoutBrokenPieces()
    {
        var tokenizer = Get("model", Llama2Model);
        foreach (var c in Fixture("llama2").Cases)
        {
            var ids = tokenizer.Encode(c.Text, addBos: true);
            var outputs = PushAll(new StreamingDecoder(tokenizer), ids);
            Assert.Equal(tokenizer.Decode(ids), string.Concat(outputs));
            Assert.DoesNotContain(outputs, HasBrokenText);
        }
    }

    [SharedDataFact(Llama2Model)]
    public void InvalidByteSequences_StreamLikeDecode()
    {
        // Incomplete or invalid UTF-8 from byte tokens becomes U+FFFD per byte, exactly as in Decode (sentencepiece).
        var tokenizer = Get("model", Llama2Model);
        foreach (var c in Fixture("llama2").Decode)
            Assert.Equal(c.Text, string.Concat(PushAll(new StreamingDecoder(tokenizer), c.Ids)));
    }

    [SharedDataFact(Gpt2Gguf, Gpt2Gguf + ".inp")]
    public void Gpt2_ConformanceTexts_StreamLikeDecode()
    {
        // GPT-2 byte-level tokens often end in the middle of a character (e.g. emoji, Khmer).
        var tokenizer = Get("gguf", Gpt2Gguf);
        int held = 0;
        foreach (var (text, _) in LlamaCppCases(Gpt2Gguf))
        {
            var ids = tokenizer.Encode(text, addBos: false);
            var outputs = PushAll(new StreamingDecoder(tokenizer), ids);
            Assert.Equal(text, string.Concat(outputs));
            Assert.DoesNotContain(outputs, HasBrokenText);
            held += outputs.Take(ids.Length).Count(o => o.Length == 0);
        }
        Assert.True(held > 10, $"expected some tokens that end inside a character, saw {held}");
    }

    [SharedDataFact(Llama2Model)]
    public void LeadingSpace_DroppedAtStartAndAfterBos_KeptWhenContinuing()
    {
        var tokenizer = Get("model", Llama2Model);
        int hello = tokenizer.Encode("Hello", addBos: false).Single(); // "▁Hello"
        Assert.Equal("▁Hello", tokenizer.TokenPiece(hello));
        Assert.Equal("Hello", string.Concat(PushAll(new StreamingDecoder(tokenizer), [hello, 2])));
        Assert.Equal(["", "Hello", " Hello"], PushAll(new StreamingDecoder(tokenizer), [1, hello, hello]).Take(3));
        Assert.Equal(" Hello", new StreamingDecoder(tokenizer, skipSpecial: true, atStartOfText: false).Push(hello));
        Assert.Equal(["<s>", " Hello", "</s>"], PushAll(new StreamingDecoder(tokenizer, skipSpecial: false), [1, hello, 2]).Take(3));
    }

    [SharedDataFact(Stories260KGguf)]
    public void Stories260K_GoldenText_StreamsBackExactly()
    {
        // llama2.c's greedy output for stories260K, tokenized with its own vocabulary and streamed back.
        var tokenizer = Get("gguf", Stories260KGguf);
        var golden = File.ReadAllText(TestPaths.Shared("models/stories260K.expected_t0_n200.txt"));
        var ids = tokenizer.Encode(golden, addBos: true);
        Assert.Equal(golden, string.Concat(PushAll(new StreamingDecoder(tokenizer), ids)));
    }
}
