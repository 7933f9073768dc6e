using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

/// <summary>
/// Against Debian's sentencepiece (fixtures from tools/make_tokenizer_fixtures.py): 63 varied strings encoded
/// without BOS, sp.decode of those ids, and sp.decode of hand-picked id sequences (byte tokens that do not form
/// valid UTF-8, UNK, control tokens, bare "▁" pieces).
/// </summary>
public class SentencePieceReferenceTests
{
    public static TheoryData<string, string> Llama2Sources => new()
    {
        { "model", Llama2Model },
        { "bin", Llama2Bin },
        { "gguf", SpmGguf },
        { "gguf", TinyRandomGguf },
    };

    [SharedDataTheory(Llama2Model, Llama2Bin, SpmGguf, TinyRandomGguf)]
    [MemberData(nameof(Llama2Sources))]
    public void Llama2_EncodeMatchesSentencePiece(string loader, string path) =>
        AssertEncodes(Get(loader, path), Fixture("llama2").Cases.Select(c => (c.Text, c.Ids)), $"{loader} {path}");

    [SharedDataTheory(Llama2Model, Llama2Bin, SpmGguf, TinyRandomGguf)]
    [MemberData(nameof(Llama2Sources))]
    public void Llama2_DecodeMatchesSentencePiece(string loader, string path) =>
        AssertDecodes(Get(loader, path), Fixture("llama2"));

    [SharedDataFact(Tok512Model)]
    public void Tok512Model_EncodeAndDecodeMatchSentencePiece()
    {
        // tok512.model has remove_extra_whitespaces on: leading/trailing spaces vanish, runs collapse.
        var tokenizer = Get("model", Tok512Model);
        Assert.True(tokenizer.Vocabulary.RemoveExtraWhitespaces);
        AssertEncodes(tokenizer, Fixture("tok512").Cases.Select(c => (c.Text, c.Ids)), "tok512.model");
        AssertDecodes(tokenizer, Fixture("tok512"));
    }

    public static TheoryData<string, string> Tok512KeepSpacesSources => new()
    {
        { "bin", Tok512Bin },
        { "gguf", Stories260KGguf },
    };

    // tok512.bin and stories260K.gguf do not carry remove_extra_whitespaces; llama2.c and llama.cpp tokenize them
    // as sentencepiece does with that flag off.
    [SharedDataTheory(Tok512Bin, Stories260KGguf)]
    [MemberData(nameof(Tok512KeepSpacesSources))]
    public void Tok512WithoutFlag_MatchesSentencePieceWithFlagOff(string loader, string path)
    {
        var tokenizer = Get(loader, path);
        Assert.False(tokenizer.Vocabulary.RemoveExtraWhitespaces);
        AssertEncodes(tokenizer, Fixture("tok512-keep-spaces").Cases.Select(c => (c.Text, c.Ids)), $"{loader} {path}");
        AssertDecodes(tokenizer, Fixture("tok512-keep-spaces"));
    }

    [SharedDataFact(Llama2Model, Llama2Bin, SpmGguf)]
    public void Llama2_AllThreeFormatsGiveTheSameVocabulary()
    {
        var model = LoadVocabulary("model", TestPaths.Shared(Llama2Model));
        var bin = TokenizerLoader.FromLlama2cTokenizer(TestPaths.Shared(Llama2Bin), 32000);
        var gguf = LoadVocabulary("gguf", TestPaths.Shared(SpmGguf));
        foreach (var other in new[] { bin, gguf })
        {
            Assert.Equal(model.Tokens, other.Tokens);
            Assert.Equal(model.Scores, other.Scores);
            Assert.Equal(model.Types, other.Types);
            Assert.Equal((model.BosId, model.EosId, model.UnknownId, model.AddBos, model.AddSpacePrefix),
                (other.BosId, other.EosId, other.UnknownId, other.AddBos, other.AddSpacePrefix));
        }
        Assert.Equal(32000, model.Tokens.Count);
        Assert.Equal((1, 2, 0), (model.BosId, model.EosId, model.UnknownId));
        Assert.Equal(256, model.Types!.Count(t => t == TokenType.Byte));
        Assert.Equal("<0x0A>", model.Tokens[13]);
    }

    [SharedDataFact(Tok512Bin, Tok512Model)]
    public void Tok512Bin_RestoresTheModelsVocabulary()
    {
        var bin = TokenizerLoader.FromLlama2cTokenizer(TestPaths.Shared(Tok512Bin), 512);
        var model = TokenizerLoader.FromSentencePieceModel(TestPaths.Shared(Tok512Model));
        Assert.Equal(model.Tokens, bin.Tokens);
        Assert.Equal(model.Scores, bin.Scores);
        Assert.Equal(model.Types, bin.Types);
    }

    [SharedDataFact(Llama2Model)]
    public void EncodeWithBos_PrependsBosOnly()
    {
        var tokenizer = Get("model", Llama2Model);
        Assert.True(tokenizer.AddBosByDefault);
        Assert.Equal([1, 15043, 3186], tokenizer.Encode("Hello world", addBos: true));
        Assert.Equal([1], tokenizer.Encode("", addBos: true));
        Assert.Empty(tokenizer.Encode("", addBos: false));
    }

    [SharedDataFact(Llama2Model)]
    public void LongText_EncodesLikeItsParts()
    {
        // The priority-queue merge must not depend on text length: a long text made of lines that each start with
        // a newline tokenizes as the concatenation of the lines (no merge crosses "\n" + "▁" in LLaMA's vocabulary
        // with these words, as each line's ids show).
        var tokenizer = Get("model", Llama2Model);
        var line = "\nThe quick brown fox jumps over the lazy dog; 12345 times.";
        var lineIds = tokenizer.Encode(line, addBos: false)[1..]; // drop the dummy-prefix "▁" of a lone line
        var text = string.Concat(Enumerable.Repeat(line, 2000));
        var ids = tokenizer.Encode(text, addBos: false);
        Assert.Equal(29871, ids[0]);
        Assert.Equal(Enumerable.Range(0, 2000).SelectMany(_ => lineIds), ids[1..]);
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    static void AssertDecodes(Tokenizer tokenizer, SentencePieceFixture fixture)
    {
        foreach (var c in fixture.Cases)
            Assert.True(c.Decoded == tokenizer.Decode(c.Ids), $"decode of the ids of {Escape(c.Text)}: expected {Escape(c.Decoded)}, got {Escape(tokenizer.Decode(c.Ids))}");
        foreach (var c in fixture.Decode)
            Assert.True(c.Text == tokenizer.Decode(c.Ids), $"decode of [{string.Join(' ', c.Ids)}]: expected {Escape(c.Text)}, got {Escape(tokenizer.Decode(c.Ids))}");
    }
}
