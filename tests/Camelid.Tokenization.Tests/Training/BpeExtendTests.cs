using Camelid.Tokenization.Training;

namespace Camelid.Tokenization.Tests.Training;

public class BpeExtendTests
{
    static Vocabulary EnglishBase() =>
        BpeTrainer.Train(TrainingTexts.English(3000), new BpeTrainerOptions { VocabSize = 600, UserDefinedSymbols = ["<|im_end|>"] });

    [Fact]
    public void Extend_KeepsEveryOldIdPieceScoreAndType_AndAppendsBelowTheLowestScore()
    {
        var baseline = EnglishBase();
        var extended = BpeTrainer.Extend(baseline, TrainingTexts.Chinese(3000), addPieces: 100);

        int n = baseline.Tokens.Count;
        Assert.Equal(n + 100, extended.Tokens.Count);
        Assert.Equal(baseline.Tokens, extended.Tokens.Take(n));
        Assert.Equal(baseline.Scores, extended.Scores![..n]);
        Assert.Equal(baseline.Types, extended.Types![..n]);
        Assert.Equal((baseline.BosId, baseline.EosId, baseline.UnknownId, baseline.AddSpacePrefix),
            (extended.BosId, extended.EosId, extended.UnknownId, extended.AddSpacePrefix));

        var added = extended.Tokens.Skip(n).ToList();
        Assert.Equal(added.Count, added.Distinct().Count());
        Assert.DoesNotContain(added, baseline.Tokens.Contains);
        float lowest = baseline.Scores!.Min();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => lowest - 1 - i), extended.Scores![n..]);
        Assert.All(extended.Types![n..], t => Assert.Equal(TokenType.Normal, t));
        // Every character of the new text is among the additions: 32 distinct Han characters and two punctuation marks.
        foreach (var word in new[] { "我", "们", "鸟", "。", "，" })
            Assert.Contains(word, added);
    }

    [Fact]
    public void Extend_EncodesTheNewLanguageWithFewerTokens_AndTheOldOneExactlyAsBefore()
    {
        var baseline = EnglishBase();
        var extended = BpeTrainer.Extend(baseline, TrainingTexts.Chinese(3000), addPieces: 150);
        var (before, after) = (Tokenizer.Create(baseline), Tokenizer.Create(extended));

        var chinese = TrainingTexts.Chinese(200, seed: 11);
        int tokensBefore = chinese.Sum(t => before.Encode(t, addBos: false).Length);
        int tokensAfter = chinese.Sum(t => after.Encode(t, addBos: false).Length);
        Assert.True(tokensAfter * 3 < tokensBefore, $"{tokensAfter} tokens after vs {tokensBefore} before");
        foreach (var text in chinese)
            Assert.Equal(text, after.Decode(after.Encode(text, addBos: false)));

        // No new piece can match inside Latin-script text, so English keeps its ids exactly.
        foreach (var text in TrainingTexts.English(200, seed: 12).Append("Hi<|im_end|>"))
            Assert.Equal(before.Encode(text, addBos: true), after.Encode(text, addBos: true));
    }

    [Fact]
    public void Extend_WrittenModel_LoadsWithTheNewPieces()
    {
        var extended = BpeTrainer.Extend(EnglishBase(), TrainingTexts.Chinese(500), addPieces: 40);
        string path = Path.Combine(Camelid.Tests.TestPaths.NewTempDir(), "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModelWriter.Serialize(extended));
        var loaded = TokenizerLoader.FromSentencePieceModel(path);
        Assert.Equal(extended.Tokens, loaded.Tokens);
        Assert.Equal(extended.Scores, loaded.Scores);
        File.Delete(path);
    }

    [Fact]
    public void Extend_WithNothingNew_OrABadCount_IsRejected()
    {
        // Without a dummy prefix, "es" learns the single merge e+s, which the base already has.
        var baseline = BpeTrainer.Train(["low", "newest", "widest"], new BpeTrainerOptions { VocabSize = 300, AddDummyPrefix = false });
        Assert.Contains("es", baseline.Tokens);
        Assert.Contains("nothing to add", Assert.Throws<ArgumentException>(() => BpeTrainer.Extend(baseline, ["es", "es"], addPieces: 10)).Message);
        Assert.Throws<ArgumentException>(() => BpeTrainer.Extend(baseline, TrainingTexts.Chinese(10), addPieces: 0));
    }
}
