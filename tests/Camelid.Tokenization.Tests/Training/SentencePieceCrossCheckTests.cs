using System.Text.Json;
using Camelid.Tests;
using Camelid.Tokenization.Training;

namespace Camelid.Tokenization.Tests.Training;

/// <summary>
/// A model trained here, encoded by Google's sentencepiece: tests/fixtures/tokenizers/camelid-trained-bpe.model is
/// what this test trains (set CAMELID_WRITE_FIXTURES=1 to rewrite it), and camelid-trained-bpe.json holds the ids
/// Debian's sentencepiece gives for it (tools/make_trained_tokenizer_fixtures.py).
/// </summary>
public class SentencePieceCrossCheckTests
{
    static readonly string ModelPath = TestPaths.Fixture("tokenizers/camelid-trained-bpe.model");

    static Vocabulary TrainFixtureModel() =>
        BpeTrainer.Train(TrainingTexts.English(2000).Concat(TrainingTexts.Chinese(300)),
            new BpeTrainerOptions { VocabSize = 700, UserDefinedSymbols = ["<|im_start|>", "<|im_end|>"] });

    [Fact]
    public void TrainedModel_IsTheCommittedFixture_AndEncodesAsSentencePieceDoes()
    {
        byte[] model = SentencePieceModelWriter.Serialize(TrainFixtureModel());
        if (Environment.GetEnvironmentVariable("CAMELID_WRITE_FIXTURES") == "1")
            File.WriteAllBytes(ModelPath, model);
        Assert.Equal(File.ReadAllBytes(ModelPath), model);

        var tokenizer = Tokenizer.Create(TokenizerLoader.FromSentencePieceModel(ModelPath));
        using var fixture = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokenizers/camelid-trained-bpe.json")));
        int checkedCases = 0;
        foreach (var c in fixture.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            int[] expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.True(expected.SequenceEqual(tokenizer.Encode(text, addBos: false)),
                $"'{text}': sentencepiece [{string.Join(",", expected)}], Camelid [{string.Join(",", tokenizer.Encode(text, addBos: false))}]");
            checkedCases++;
        }
        Assert.True(checkedCases >= 10);
    }
}
