using Camelid.Formats.Gguf;
using Camelid.Model.Conversion;
using Camelid.Tokenization;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Conversion;

public class SyntheticVocabularyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(259)]
    [InlineData(300)]
    [InlineData(512)]
    [InlineData(32000)]
    public void Layout_is_llamas_and_every_piece_is_unique(int size)
    {
        var v = SyntheticVocabulary.Create(size);
        Assert.Equal(size, v.Count);
        Assert.Equal(size, v.Scores.Length);
        Assert.Equal(size, v.TokenTypes.Length);
        Assert.Equal(["<unk>", "<s>", "</s>"], v.Tokens.Take(3));
        Assert.Equal([2, 3, 3], v.TokenTypes.Take(3));
        for (int b = 0; b < 256; b++)
        {
            Assert.Equal($"<0x{b:X2}>", v.Tokens[3 + b]);
            Assert.Equal(6, v.TokenTypes[3 + b]);
        }
        Assert.All(v.TokenTypes.Skip(259), t => Assert.Equal(1, t));
        Assert.Equal(size, v.Tokens.Distinct(StringComparer.Ordinal).Count());
        // Scores fall strictly after the byte tokens (merge priority).
        for (int i = 260; i < size; i++)
            Assert.True(v.Scores[i] < v.Scores[i - 1]);
        Assert.Equal(v.Tokens, SyntheticVocabulary.Create(size).Tokens);
    }

    [Fact]
    public void Larger_vocabularies_extend_smaller_ones()
    {
        var small = SyntheticVocabulary.Create(512);
        var large = SyntheticVocabulary.Create(32000);
        int merged = 512 - 259 - 75; // the 75 single characters sit at the end of each
        Assert.Equal(small.Tokens.Take(259 + merged), large.Tokens.Take(259 + merged));
    }

    [Theory]
    [InlineData(512, 1.8)]
    [InlineData(32000, 4.0)]
    public void Tokenizer_loads_from_a_synthesized_file_and_round_trips_text(int vocabSize, double minimumCharsPerToken)
    {
        string dir = Camelid.Tests.TestPaths.NewTempDir();
        try
        {
            var w = new GgufWriter();
            var v = SyntheticVocabulary.Create(vocabSize);
            w.Add("tokenizer.ggml.model", "llama");
            w.Add("tokenizer.ggml.tokens", v.Tokens);
            w.Add("tokenizer.ggml.scores", v.Scores);
            w.Add("tokenizer.ggml.token_type", v.TokenTypes);
            string path = Path.Combine(dir, "vocab.gguf");
            w.Write(path);
            var tok = LlamaModel.LoadTokenizer(path);
            Assert.Equal(vocabSize, tok.VocabSize);

            const string story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.";
            foreach (var text in new[] { story, "Ünïcödé 🦙 and tabs\tand\nnewlines", "  leading spaces", "" })
            {
                var ids = tok.Encode(text, addBos: true);
                Assert.Equal(tok.BosId, ids[0]);
                Assert.Equal(text, tok.Decode(ids));
            }
            var storyIds = tok.Encode(story, addBos: false);
            output.WriteLine($"{vocabSize}: {storyIds.Length} tokens: {string.Join(" ", storyIds.Select(tok.TokenPiece))}");
            Assert.True(story.Length / (double)storyIds.Length >= minimumCharsPerToken, $"{storyIds.Length} tokens for {story.Length} characters");
            Assert.Contains(tok.Encode(" the", addBos: false), id => tok.TokenPiece(id) == "\u2581the");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Sizes_below_the_byte_tokens_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticVocabulary.Create(258));
    }
}
