using System.Text;
using Camelid.Formats;
using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

public class TokenizerApiTests
{
    [SharedDataFact(Llama2Model)]
    public void SentencePiece_SpecialTokensAndTokenBytes()
    {
        var t = Get("model", Llama2Model);
        Assert.Equal((32000, 1, 2, true), (t.VocabSize, t.BosId, t.EosId, t.AddBosByDefault));
        Assert.True(t.IsEndOfGeneration(2));
        Assert.False(t.IsEndOfGeneration(1));
        Assert.True(t.IsControl(1));
        Assert.False(t.IsControl(15043));
        Assert.False(t.IsControl(-1));
        Assert.Equal("▁Hello", t.TokenPiece(15043));
        Assert.Equal(" Hello"u8.ToArray(), t.TokenBytes(15043));
        Assert.Equal([(byte)'\n'], t.TokenBytes(13)); // <0x0A>
        Assert.Empty(t.TokenBytes(1));
        Assert.Equal(" \u2047 "u8.ToArray(), t.TokenBytes(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.TokenPiece(32000));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([5, -1]));
    }

    [SharedDataFact(Llama2Model)]
    public void SentencePiece_ParseSpecial()
    {
        var t = Get("model", Llama2Model);
        // with parseSpecial "<s>" is BOS; the text after a special token gets the dummy prefix again (llama.cpp)
        Assert.Equal([1, 15043, 2], t.Encode("<s>Hello</s>", addBos: false, parseSpecial: true));
        Assert.Equal([1, 1, 15043], t.Encode("<s>Hello", addBos: true, parseSpecial: true));
        // without it, "<s>" is text, tokenized as sentencepiece does (fixture case "<s>")
        var literal = Fixture("llama2").Cases.Single(c => c.Text == "<s>").Ids;
        Assert.Equal(literal, t.Encode("<s>", addBos: false));
        Assert.DoesNotContain(1, literal);
        Assert.Equal("<s> Hello</s>", t.Decode([1, 15043, 2], skipSpecial: false));
        Assert.Equal("Hello", t.Decode([1, 15043, 2]));
    }

    [SharedDataFact(Gpt2Gguf)]
    public void ByteLevel_SpecialTokensAndTokenBytes()
    {
        var t = Get("gguf", Gpt2Gguf);
        Assert.Equal((50257, 50256, 50256, false), (t.VocabSize, t.BosId, t.EosId, t.AddBosByDefault));
        Assert.True(t.IsEndOfGeneration(50256));
        int the = t.Encode(" the", addBos: false).Single();
        Assert.Equal("Ġthe", t.TokenPiece(the));
        Assert.Equal(" the"u8.ToArray(), t.TokenBytes(the));
        Assert.Empty(t.TokenBytes(50256));
        Assert.Equal([50256, the, 50256], t.Encode("<|endoftext|> the<|endoftext|>", addBos: false, parseSpecial: true));
        Assert.Equal([50256, the], t.Encode(" the", addBos: true));
    }

    static Metadata GgufMetadata(params (string Key, object Value)[] entries) =>
        new(entries.ToDictionary(e => e.Key, e => e.Value), "test.gguf");

    [Fact]
    public void FromGguf_Defaults_AndEndOfTurnTokens()
    {
        string[] tokens = ["<unk>", "<s>", "</s>", "▁a", "<|eot_id|>"];
        var llama = TokenizerLoader.FromGguf(GgufMetadata(
            ("tokenizer.ggml.model", "llama"), ("tokenizer.ggml.tokens", tokens),
            ("tokenizer.ggml.scores", new float[] { 0, 0, 0, -1, 0 }), ("tokenizer.ggml.token_type", new[] { 2, 3, 3, 1, 3 }),
            ("tokenizer.ggml.padding_token_id", 0xFFFFFFFFu)));
        Assert.Equal((1, 2, 0, (int?)null, true, false, true), (llama.BosId, llama.EosId, llama.UnknownId, llama.PaddingId, llama.AddBos, llama.AddEos, llama.AddSpacePrefix));
        Assert.Equal([4], llama.ExtraEosIds!); // found by its text: a control token named <|eot_id|>
        Assert.True(Tokenizer.Create(llama).IsEndOfGeneration(4));

        var gpt2 = TokenizerLoader.FromGguf(GgufMetadata(
            ("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", "llama-bpe"), ("tokenizer.ggml.tokens", new[] { "a", "b", "ab", "<|end|>" }),
            ("tokenizer.ggml.merges", new[] { "a b" }), ("tokenizer.ggml.bos_token_id", 3u), ("tokenizer.ggml.eos_token_id", 3u),
            ("tokenizer.ggml.eot_token_id", 0u), ("tokenizer.ggml.add_space_prefix", false)));
        Assert.Equal((false, false), (gpt2.AddBos, gpt2.AddSpacePrefix));
        Assert.Equal([0], gpt2.ExtraEosIds!);
        var t = Tokenizer.Create(gpt2);
        Assert.Equal([2, 0], t.Encode("aba", addBos: false));
    }

    [Fact]
    public void SentencePiece_WithoutByteTokens_UsesUnknownPerCharacter()
    {
        // sentencepiece without byte_fallback: a character that is no piece becomes one UNK (ids and decode checked
        // with sentencepiece 0.1.97 on the same vocabulary)
        var v = new Vocabulary("llama", null, ["<unk>", "<s>", "</s>", "▁", "a", "▁a"], [0, 0, 0, -3, -2, -1],
            [TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Normal, TokenType.Normal, TokenType.Normal],
            null, 1, 2, 0, null, AddBos: true, AddEos: false, AddSpacePrefix: true);
        var t = Tokenizer.Create(v);
        Assert.Equal([5, 0, 4, 0], t.Encode("aéa😀", addBos: false));
        Assert.Equal("a ⁇ a ⁇ ", t.Decode([5, 0, 4, 0]));
    }

    [Fact]
    public void SentencePiece_EqualScores_MergeLeftmostFirst()
    {
        // "▁aaa": pairs (▁a), (aa), (aa) all score 0; the leftmost merges first: ▁a + aa (both cases checked with
        // sentencepiece 0.1.97)
        var v = new Vocabulary("llama", null, ["<unk>", "<s>", "</s>", "▁", "a", "▁a", "aa"], [0, 0, 0, -5, -5, 0, 0],
            null, null, 1, 2, 0, null, AddBos: false, AddEos: false, AddSpacePrefix: true);
        Assert.Equal([5, 6], Tokenizer.Create(v).Encode("aaa", addBos: false));
        // a higher score wins over position: aa (1) before ▁a (0) -> ▁ aa a
        var w = v with { Scores = [0, 0, 0, -5, -5, 0, 1] };
        Assert.Equal([3, 6, 4], Tokenizer.Create(w).Encode("aaa", addBos: false));
    }

    [Fact]
    public void SentencePiece_MergedUnusedPiece_IsSplitBackIntoItsHalves()
    {
        // An unused piece takes part in merging but is not emitted (sentencepiece's resegmentation). Expected ids
        // were checked with sentencepiece 0.1.97 on the same vocabulary built as a ModelProto.
        var v = new Vocabulary("llama", null, ["<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "▁ab"], [0, 0, 0, -5, -5, -5, 0, -1],
            [TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Normal, TokenType.Normal, TokenType.Normal, TokenType.Unused, TokenType.Normal],
            null, 1, 2, 0, null, AddBos: false, AddEos: false, AddSpacePrefix: true);
        var t = Tokenizer.Create(v);
        Assert.Equal([7], t.Encode("ab", addBos: false));
        Assert.Equal([7, 7], t.Encode("ab ab", addBos: false));
        Assert.Equal([3, 5, 4, 5], t.Encode("bab", addBos: false));
        Assert.Equal([7, 4, 5], t.Encode("abab", addBos: false));
        Assert.Equal([3, 5, 7], t.Encode("b ab", addBos: false));
    }

    [Fact]
    public void InvalidVocabularies_AreTokenizerExceptions()
    {
        var ok = new Vocabulary("llama", null, ["<unk>", "<s>", "</s>"], [0, 0, 0], null, null, 1, 2, 0, null, true, false, true);
        Tokenizer.Create(ok);
        Assert.Contains("scores", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { Scores = [0] })).Message);
        Assert.Contains("EOS", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { EosId = 3 })).Message);
        Assert.Contains("'bert'", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { Model = "bert" })).Message);
        Assert.Contains("merges", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { Model = "gpt2" })).Message);
        Assert.Contains("qwen2", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { Model = "gpt2", Pre = "qwen2", Merges = [] })).Message);
        Assert.Contains("'x y'", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { Model = "gpt2", Merges = ["x y"] })).Message);
        Assert.Contains("type 9", Assert.Throws<TokenizerException>(() => Tokenizer.Create(ok with { Types = [TokenType.Normal, TokenType.Control, (TokenType)9] })).Message);
    }

    [SharedDataFact(Llama2Model, Gpt2Gguf)]
    public void HundredKilobytesOfText_RoundTrips()
    {
        // A long input through the priority-queue merges (and, for GPT-2, the word cache) decodes back exactly.
        var sb = new StringBuilder();
        var words = "the quick brown fox jumps over the lazy dog while a tiny llama reads stories about dragons and kings".Split(' ');
        for (int i = 0; sb.Length < 100_000; i++)
            sb.Append(words[(i * 7 + i / 3) % words.Length]).Append(i % 17 == 16 ? ".\n" : " ");
        string text = sb.ToString();
        foreach (var t in new[] { Get("model", Llama2Model), Get("gguf", Gpt2Gguf) })
        {
            var ids = t.Encode(text, addBos: false);
            Assert.InRange(ids.Length, text.Length / 8, text.Length / 2);
            Assert.Equal(text, t.Decode(ids));
        }
    }
}
