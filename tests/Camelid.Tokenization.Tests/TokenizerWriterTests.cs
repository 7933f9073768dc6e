using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

/// <summary>
/// tokenizer.model and tokenizer.json written from a vocabulary read back as the same tokenizer: the same ids on
/// llama.cpp's test vectors, and for SentencePiece the same pieces section, byte for byte, as the real file.
/// </summary>
public class TokenizerWriterTests
{
    static readonly string[] Samples =
    [
        "Hello world", "Once upon a time, there was a little llama.", "  two leading spaces,  two inside ", "",
        "Ünïcödé straße", "日本語のテキスト", "emoji 🦙 and 🤖", "tabs\tand\nnew\n\nlines", "<s> is text here", "x",
    ];

    [SharedDataTheory(Llama2Model, Tok512Model)]
    [InlineData(Llama2Model)]
    [InlineData(Tok512Model)]
    public void SentencePieceModel_round_trip_keeps_the_pieces_bytes_and_the_tokenizer(string relativePath)
    {
        string original = TestPaths.Shared(relativePath);
        var vocabulary = TokenizerLoader.FromSentencePieceModel(original);
        byte[] written = SentencePieceModelWriter.Serialize(vocabulary);

        Assert.Equal(PiecesSection(File.ReadAllBytes(original)), PiecesSection(written));
        var reread = ReadBack(written);
        AssertSameSentencePiece(vocabulary, reread);
        AssertSameIds(Tokenizer.Create(vocabulary), Tokenizer.Create(reread), Samples);
    }

    [SharedDataFact(SpmGguf, SpmGguf + ".inp", SpmGguf + ".out")]
    public void SentencePieceModel_from_a_gguf_vocabulary_passes_llama_cpp_vectors()
    {
        var vocabulary = Gguf(TestPaths.Shared(SpmGguf));
        var reread = ReadBack(SentencePieceModelWriter.Serialize(vocabulary));
        AssertSameSentencePiece(vocabulary, reread);
        AssertEncodes(Tokenizer.Create(reread), LlamaCppCases(SpmGguf), "tokenizer.model written from ggml-vocab-llama-spm.gguf");
    }

    [SharedDataFact(Tok512Bin)]
    public void SentencePieceModel_from_a_llama2c_tokenizer_bin_encodes_like_it()
    {
        var vocabulary = TokenizerLoader.FromLlama2cTokenizer(TestPaths.Shared(Tok512Bin), 512);
        var reread = ReadBack(SentencePieceModelWriter.Serialize(vocabulary));
        AssertSameSentencePiece(vocabulary, reread);
        AssertSameIds(Tokenizer.Create(vocabulary), Tokenizer.Create(reread), Samples);
    }

    [SharedDataFact(Gpt2Gguf, Gpt2Gguf + ".inp", Gpt2Gguf + ".out")]
    public void TokenizerJson_from_a_gpt2_vocabulary_passes_llama_cpp_vectors()
    {
        var vocabulary = Gguf(TestPaths.Shared(Gpt2Gguf));
        var reread = ReadBackJson(vocabulary);
        Assert.Equal(vocabulary.Model, reread.Model);
        Assert.Equal("gpt-2", reread.Pre);
        Assert.Equal(vocabulary.Tokens, reread.Tokens);
        Assert.Equal(Types(vocabulary), Types(reread));
        Assert.Equal(vocabulary.Merges, reread.Merges);
        Assert.Equal((vocabulary.BosId, vocabulary.EosId, vocabulary.UnknownId, vocabulary.AddBos, vocabulary.AddEos, vocabulary.AddSpacePrefix),
            (reread.BosId, reread.EosId, reread.UnknownId, reread.AddBos, reread.AddEos, reread.AddSpacePrefix));
        AssertEncodes(Tokenizer.Create(reread), LlamaCppCases(Gpt2Gguf), "tokenizer.json written from ggml-vocab-gpt-2.gguf");
    }

    [SharedDataFact(Gpt2Gguf, Gpt2Gguf + ".inp")]
    public void TokenizerJson_keeps_the_llama3_split_regex_and_an_added_bos()
    {
        // The GPT-2 vocabulary under LLaMA-3's pre-tokenizer, adding BOS: written as a Split + ByteLevel sequence
        // and a TemplateProcessing post-processor, which must read back as the same tokenizer.
        var vocabulary = Gguf(TestPaths.Shared(Gpt2Gguf)) with { Pre = "llama-bpe", AddBos = true };
        var reread = ReadBackJson(vocabulary);
        Assert.Equal("llama-bpe", reread.Pre);
        Assert.True(reread.AddBos);
        Assert.Equal(vocabulary.BosId, reread.BosId);
        var (expected, actual) = (Tokenizer.Create(vocabulary), Tokenizer.Create(reread));
        AssertSameIds(expected, actual, LlamaCppCases(Gpt2Gguf).Select(c => c.Text).Concat(Samples));
        Assert.Equal(expected.Encode("Hello", addBos: true), actual.Encode("Hello", addBos: true));
    }

    [Fact]
    public void SentencePieceModel_of_a_hand_built_vocabulary_reads_back_with_every_setting()
    {
        var vocabulary = HandBuilt() with { UnknownSurface = "<?>", RemoveExtraWhitespaces = true, PaddingId = 3 };
        var reread = ReadBack(SentencePieceModelWriter.Serialize(vocabulary));
        AssertSameSentencePiece(vocabulary, reread);
        Assert.Equal(3, reread.PaddingId);
        Assert.Equal("<?>", reread.UnknownSurface);
        AssertSameIds(Tokenizer.Create(vocabulary), Tokenizer.Create(reread), Samples);

        var plain = HandBuilt() with { AddSpacePrefix = false, BosId = -1, AddBos = false };
        var plainBack = ReadBack(SentencePieceModelWriter.Serialize(plain));
        Assert.False(plainBack.AddSpacePrefix);
        Assert.Equal(-1, plainBack.BosId);
    }

    [Fact]
    public void Vocabularies_sentencepiece_would_refuse_are_not_written()
    {
        var good = HandBuilt();
        var noUnknown = good with { Types = [.. good.Types!.Select(t => t == TokenType.Unknown ? TokenType.Control : t)], UnknownId = null };
        Assert.Contains("unknown token", Assert.Throws<TokenizerException>(() => SentencePieceModelWriter.Serialize(noUnknown)).Message);

        var tokens = good.Tokens.ToArray();
        tokens[^1] = tokens[^2];
        Assert.Contains("twice", Assert.Throws<TokenizerException>(() => SentencePieceModelWriter.Serialize(good with { Tokens = tokens })).Message);

        var fewBytes = good with { Types = [.. good.Types!.Select((t, id) => id == 10 ? TokenType.Normal : t)] };
        Assert.Contains("all 256", Assert.Throws<TokenizerException>(() => SentencePieceModelWriter.Serialize(fewBytes)).Message);

        Assert.Throws<TokenizerException>(() => HfTokenizerWriter.TokenizerJson(good));
    }

    /// <summary>&lt;unk&gt; &lt;s&gt; &lt;/s&gt; &lt;pad&gt;, 256 byte tokens, characters and a few merged pieces with falling scores.</summary>
    static Vocabulary HandBuilt()
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>", "<pad>" };
        var types = new List<TokenType> { TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Control };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(TokenType.Byte);
        }
        string[] pieces = ["▁t", "he", "▁the", "▁a", "in", "▁w", "or", "ld", "▁wor", "▁world", "▁l", "la", "▁lla", "ma", "▁llama",
            "▁", "e", "t", "a", "h", "o", "r", "l", "d", "w", "i", "n", "m", "s", "x", "H", ".", ","];
        var scores = new float[tokens.Count + pieces.Length];
        for (int i = 0; i < pieces.Length; i++)
        {
            scores[tokens.Count] = -i;
            tokens.Add(pieces[i]);
            types.Add(TokenType.Normal);
        }
        return new Vocabulary(Vocabulary.SentencePieceModel, null, tokens, scores, [.. types], null,
            BosId: 1, EosId: 2, UnknownId: 0, PaddingId: null, AddBos: true, AddEos: false, AddSpacePrefix: true);
    }

    static Vocabulary ReadBack(byte[] tokenizerModel)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "tokenizer.model");
            File.WriteAllBytes(path, tokenizerModel);
            return TokenizerLoader.FromSentencePieceModel(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static Vocabulary ReadBackJson(Vocabulary vocabulary)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            var files = HfTokenizerWriter.WriteFiles(vocabulary, dir, chatTemplate: "{{ messages }}", modelMaxLength: 1024);
            Assert.Equal(["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"], files);
            return TokenizerLoader.FromHfTokenizerJson(Path.Combine(dir, "tokenizer.json"), Path.Combine(dir, "tokenizer_config.json"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static TokenType[] Types(Vocabulary v) => Enumerable.Range(0, v.Tokens.Count).Select(v.TypeOf).ToArray();

    static void AssertSameSentencePiece(Vocabulary expected, Vocabulary actual)
    {
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.Scores ?? new float[expected.Tokens.Count], actual.Scores);
        Assert.Equal(Types(expected), Types(actual));
        Assert.Equal((expected.BosId, expected.EosId, expected.UnknownId, expected.PaddingId),
            (actual.BosId, actual.EosId, actual.UnknownId, actual.PaddingId));
        Assert.Equal((expected.AddSpacePrefix, expected.RemoveExtraWhitespaces, expected.UnknownSurface),
            (actual.AddSpacePrefix, actual.RemoveExtraWhitespaces, actual.UnknownSurface));
    }

    static void AssertSameIds(Tokenizer expected, Tokenizer actual, IEnumerable<string> texts) =>
        AssertEncodes(actual, texts.Select(t => (t, expected.Encode(t, addBos: false))), "written tokenizer");

    /// <summary>The top-level ModelProto field-1 entries (the pieces), with their keys and lengths, concatenated.</summary>
    static byte[] PiecesSection(byte[] model)
    {
        var pieces = new List<byte>();
        int pos = 0;
        while (pos < model.Length)
        {
            int start = pos;
            ulong key = ReadVarint(model, ref pos);
            Assert.Equal(2ul, key & 7); // every top-level field of a ModelProto is a message
            int length = (int)ReadVarint(model, ref pos);
            pos += length;
            if (key >> 3 == 1)
                pieces.AddRange(model.AsSpan(start, pos - start));
        }
        return [.. pieces];
    }

    static ulong ReadVarint(byte[] data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }
}
