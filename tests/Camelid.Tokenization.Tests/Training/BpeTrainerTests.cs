using System.Globalization;
using System.Text;
using Camelid.Tests;
using Camelid.Tokenization.Training;

namespace Camelid.Tokenization.Tests.Training;

public class BpeTrainerTests
{
    const int ReservedWithBytes = 3 + 256;

    /// <summary>
    /// Sennrich et al.'s example: "low"×5, "lower"×2, "newest"×6, "widest"×3, each text getting the dummy prefix "▁".
    /// Character counts: e 17, w 16, ▁ 16, s 9, t 9, l 7, o 7, n 6, d 3, i 3, r 2, so the symbol order (count, then
    /// code point) is e w ▁ s t l o n d i r, numbered 0..10, and merged pieces are numbered 11, 12, ... as made.
    /// Ties go to the lower left number, then the lower right number. By hand:
    ///  1 e+s (9; ties s+t 9: e=0 beats s=3)      → es(11)     2 es+t (9)                 → est(12)
    ///  3 at 7: ▁+l, l+o, o+w; ▁=2 is lowest       → ▁l(13)     4 ▁l+o(13) vs o+w(6)      → ow(14)
    ///  5 ▁l+ow (7)                                 → ▁low(15)   6 at 6: ▁+n, n+e, e+w, w+est; e=0 → ew(16)
    ///  7 ▁+n(2) vs n+ew(7) vs ew+est(16)           → ▁n(17)     8 ew+est(16) vs ▁n+ew(17) → ewest(18)
    ///  9 ▁n+ewest                                  → ▁newest    10 at 3: ▁+w, w+i, i+d, d+est; w=1 → wi(20)
    /// 11 ▁+wi(2) vs wi+d(20) vs d+est(8)          → ▁wi(21)    12 d+est(8) vs ▁wi+d(21)  → dest(22)
    /// 13 ▁wi+dest                                  → ▁widest    14 at 2: ▁low+e(15) vs e+r(0) → er(24)
    /// 15 ▁low+er                                   → ▁lower     and no pair is left.
    /// </summary>
    static readonly string[] SennrichMerges =
        ["es", "est", "▁l", "ow", "▁low", "ew", "▁n", "ewest", "▁newest", "wi", "▁wi", "dest", "▁widest", "er", "▁lower"];

    static readonly string[] SennrichCharacters = ["e", "w", "▁", "s", "t", "l", "o", "n", "d", "i", "r"];

    static IEnumerable<string> SennrichCorpus() =>
        Enumerable.Repeat("low", 5).Concat(Enumerable.Repeat("lower", 2)).Concat(Enumerable.Repeat("newest", 6)).Concat(Enumerable.Repeat("widest", 3));

    [Fact]
    public void KnownCorpus_LearnsTheHandComputedMergesInOrder_ThenTheCharacters()
    {
        var v = BpeTrainer.Train(SennrichCorpus(), new BpeTrainerOptions { VocabSize = 100, ByteFallback = false });

        Assert.Equal(["<unk>", "<s>", "</s>", .. SennrichMerges, .. SennrichCharacters], v.Tokens);
        Assert.Equal([TokenType.Unknown, TokenType.Control, TokenType.Control], v.Types![..3]);
        Assert.All(v.Types[3..], t => Assert.Equal(TokenType.Normal, t));
        Assert.Equal(Enumerable.Range(0, 26).Select(i => (float)-i), v.Scores![3..]);
        Assert.Equal((0, 1, 2), (v.UnknownId!.Value, v.BosId, v.EosId));

        // The encoder, merging by score, replays the training order: every training word is one piece.
        var tokenizer = Tokenizer.Create(v);
        Assert.Equal([v.Tokens.ToList().IndexOf("▁newest"), v.Tokens.ToList().IndexOf("▁lower")], tokenizer.Encode("newest lower", addBos: false));
    }

    [Fact]
    public void KnownCorpus_VocabSizeCutsTheMergeList()
    {
        var v = BpeTrainer.Train(SennrichCorpus(), new BpeTrainerOptions { VocabSize = 3 + 5 + 11, ByteFallback = false });
        Assert.Equal(["<unk>", "<s>", "</s>", .. SennrichMerges[..5], .. SennrichCharacters], v.Tokens);
    }

    [Fact]
    public void IdLayout_UnkBosEos_ThenUserDefined_ThenBytes_ThenPieces()
    {
        var v = BpeTrainer.Train(TrainingTexts.English(500), new BpeTrainerOptions
        {
            VocabSize = 400, UserDefinedSymbols = ["<|im_start|>", "<|im_end|>"],
        });
        Assert.Equal(400, v.Tokens.Count);
        Assert.Equal(["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<0x00>", "<0x01>"], v.Tokens.Take(7));
        Assert.Equal("<0xFF>", v.Tokens[5 + 255]);
        Assert.Equal([TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.UserDefined, TokenType.UserDefined], v.Types![..5]);
        Assert.All(v.Types[5..261], t => Assert.Equal(TokenType.Byte, t));
        Assert.All(v.Types[261..], t => Assert.Equal(TokenType.Normal, t));
        Assert.All(v.Scores![..261], s => Assert.Equal(0f, s));
        Assert.Equal(Enumerable.Range(0, 400 - 261).Select(i => (float)-i), v.Scores[261..]);
        Assert.True(v.AddBos);
        Assert.True(v.AddSpacePrefix);
    }

    [Fact]
    public void UserDefinedSymbols_EncodeAsSingleTokens_AndNeverInsideLearnedPieces()
    {
        var texts = TrainingTexts.English(400).Select(t => $"<|im_start|>user\n{t}<|im_end|>");
        var v = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 500, UserDefinedSymbols = ["<|im_start|>", "<|im_end|>"] });
        var tokenizer = Tokenizer.Create(v);
        int[] ids = tokenizer.Encode("<|im_start|>user\nThe cat sees the red ball.<|im_end|>", addBos: false);
        Assert.Equal(3, ids[0]);
        Assert.Equal(4, ids[^1]);
        Assert.DoesNotContain(v.Tokens.Skip(ReservedWithBytes + 2), p => p.Contains("<|") || p.Contains("|>"));
    }

    /// <summary>Random text from every corner of Unicode (controls, CJK, emoji, marks, characters never seen in
    /// training) must decode to exactly the input; unseen characters go through the byte pieces.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EncodeDecode_RoundTripsRandomUnicode_ByteExactly(bool addDummyPrefix)
    {
        var v = BpeTrainer.Train(TrainingTexts.English(2000), new BpeTrainerOptions { VocabSize = 600, AddDummyPrefix = addDummyPrefix });
        var tokenizer = Tokenizer.Create(v);
        string[] pool =
        [
            " ", "  ", "\n", "\t", "\r\n", "\0", "\u0001", "\u001B", "\u007F", "the", "cat", " The", "apple", ".", "!",
            "é", "e\u0301", "ß", "Ж", "λ", "中", "国", "日本語", "한국어", "😀", "🦙", "👩‍👩‍👧", "\U0001F3F3\uFE0F", "ｱ", "١٢٣",
            "\uFFFD", "\u00A0", "\u200B", "𝔘", "<s>", "<unk>", "<0x41>", "12345",
        ];
        var random = new Random(7);
        int byteTokens = 0;
        for (int n = 0; n < 400; n++)
        {
            var sb = new StringBuilder();
            int parts = random.Next(0, 12);
            for (int p = 0; p < parts; p++)
                sb.Append(random.Next(4) == 0 ? char.ConvertFromUtf32(RandomScalar(random)) : pool[random.Next(pool.Length)]);
            string text = sb.ToString();
            int[] ids = tokenizer.Encode(text, addBos: false);
            Assert.Equal(text, tokenizer.Decode(ids));
            Assert.DoesNotContain(v.UnknownId!.Value, ids);
            byteTokens += ids.Count(id => v.Types![id] == TokenType.Byte);
        }
        Assert.True(byteTokens > 100, $"only {byteTokens} byte tokens: unseen characters should fall back to bytes");
    }

    static int RandomScalar(Random random)
    {
        while (true)
        {
            int cp = random.Next(1, 0x110000);
            if (cp is (< 0xD800 or > 0xDFFF) and not 0x2581) // a literal "▁" decodes as a space, in sentencepiece too
                return cp;
        }
    }

    [Fact]
    public void SameInput_SameModel_RegardlessOfThreads()
    {
        // Over 1 MB so that the corpus is read in several batches on several threads.
        var texts = TrainingTexts.English(60_000, seed: 3);
        Assert.True(texts.Sum(t => t.Length) > 2_500_000);
        byte[] Model(int threads) => SentencePieceModelWriter.Serialize(
            BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 700, Threads = threads }));
        byte[] one = Model(1);
        Assert.Equal(one, Model(4));
        Assert.Equal(one, Model(2));
    }

    [Fact]
    public void PiecesRespectMaxLength_AndNeverMixLettersDigitsOrScripts()
    {
        var texts = Enumerable.Range(0, 300).Select(i => $"abc{i % 7}{i % 3} xyzαβγ привет{i % 10}! ok.");
        var v = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 450, MaxPieceLength = 4 });
        var learned = v.Tokens.Skip(ReservedWithBytes).ToList();
        Assert.NotEmpty(learned);
        foreach (var piece in learned)
        {
            var runes = piece.EnumerateRunes().Where(r => r.Value != '\u2581').ToList();
            Assert.True(piece.EnumerateRunes().Count() <= 4, piece);
            Assert.False(runes.Any(Rune.IsLetter) && runes.Any(Rune.IsDigit), piece);
            Assert.False(runes.Any(r => r.Value < 0x80 && Rune.IsLetter(r)) && runes.Any(r => r.Value >= 0x80 && Rune.IsLetter(r)), piece);
            Assert.False(runes.Any(Rune.IsLetter) && runes.Any(r => Rune.GetUnicodeCategory(r) == UnicodeCategory.OtherPunctuation), piece);
            Assert.DoesNotContain('\u2581', piece[1..]);
        }
        // "▁привет" grows from the right to "риве"; "▁п"+"риве" and "риве"+"т" would be five characters.
        Assert.Equal(["▁abc", "▁xyz", "αβγ", "риве"], new[] { "▁abc", "▁xyz", "αβγ", "риве" }.Intersect(learned));
        Assert.DoesNotContain("xyzα", string.Join(" ", learned));
    }

    [Fact]
    public void SplitDigits_KeepsEveryDigitAPieceOfItsOwn_AsSpmTrainDoes()
    {
        // The corpus of a check against spm_train --split_digits=true (0.1.97): there, no piece but the ten digits held
        // a digit, and "What is 61 + 52? 3rd x2y" encoded as ▁What ▁is ▁ 6 1 ▁+ ▁ 5 2 ? ▁ 3 rd ▁x 2 y.
        var rng = new Random(1);
        var texts = Enumerable.Range(0, 3000).Select(_ => $"What is {rng.Next(10, 100)} + {rng.Next(10, 100)}? It is 1234 and x2y 3rd").ToList();
        bool HasMergedDigits(Vocabulary v) => v.Tokens.Skip(ReservedWithBytes).Any(p => p.Length > 1 && p.Any(char.IsAsciiDigit));

        var plain = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 400 });
        Assert.True(HasMergedDigits(plain)); // without the option numbers do merge, so the check below can fail

        var split = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 400, SplitDigits = true });
        Assert.False(HasMergedDigits(split));
        Assert.All("0123456789", d => Assert.Contains(d.ToString(), split.Tokens));
        var tokenizer = Tokenizer.Create(split);
        const string text = "What is 61 + 52? 3rd x2y";
        var pieces = tokenizer.Encode(text, addBos: false).Select(id => split.Tokens[id]).ToList();
        Assert.Equal(["▁What", "▁is", "▁", "6", "1", "▁+", "▁", "5", "2", "?", "▁", "3", "rd", "▁x", "2", "y"], pieces);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addBos: false)));
    }

    [Fact]
    public void WrittenModel_LoadsThroughTheSentencePieceLoader_AndEncodesTheSame()
    {
        var v = BpeTrainer.Train(TrainingTexts.English(1000), new BpeTrainerOptions { VocabSize = 500, UserDefinedSymbols = ["<|im_end|>"] });
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModelWriter.Serialize(v));
        var loaded = TokenizerLoader.FromSentencePieceModel(path);
        Assert.Equal(v.Tokens, loaded.Tokens);
        Assert.Equal(v.Scores, loaded.Scores);
        Assert.Equal(v.Types, loaded.Types);
        Assert.Equal((v.BosId, v.EosId, v.UnknownId, v.AddSpacePrefix, v.RemoveExtraWhitespaces),
            (loaded.BosId, loaded.EosId, loaded.UnknownId, loaded.AddSpacePrefix, loaded.RemoveExtraWhitespaces));
        var (trained, reloaded) = (Tokenizer.Create(v), Tokenizer.Create(loaded));
        foreach (var text in TrainingTexts.English(50, seed: 9).Append("Hello 世界 🦙<|im_end|>"))
            Assert.Equal(trained.Encode(text, addBos: true), reloaded.Encode(text, addBos: true));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void VocabSizeBelowTheRequiredPieces_IsRejectedWithTheCount()
    {
        var e = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(SennrichCorpus(), new BpeTrainerOptions { VocabSize = 260 }));
        Assert.Contains("270 pieces", e.Message); // 3 + 256 bytes + 11 characters
        Assert.Throws<ArgumentException>(() => BpeTrainer.Train(SennrichCorpus(), new BpeTrainerOptions { VocabSize = 13, ByteFallback = false }));
        Assert.Equal(14, BpeTrainer.Train(SennrichCorpus(), new BpeTrainerOptions { VocabSize = 14, ByteFallback = false }).Tokens.Count);
    }

    [Fact]
    public void EmptyCorpus_IsRejected()
    {
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => BpeTrainer.Train([], new BpeTrainerOptions())).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => BpeTrainer.Train(["", ""], new BpeTrainerOptions())).Message);
    }

    [Fact]
    public void CorpusTooSmallForTheVocabSize_GivesASmallerVocabulary()
    {
        var v = BpeTrainer.Train(SennrichCorpus(), new BpeTrainerOptions { VocabSize = 10_000 });
        Assert.Equal(ReservedWithBytes + SennrichMerges.Length + SennrichCharacters.Length, v.Tokens.Count);
    }
}
