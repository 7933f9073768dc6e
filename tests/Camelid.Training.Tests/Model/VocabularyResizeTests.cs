using Camelid.Model;
using Camelid.Tensors.Threading;
using Camelid.Training.Model;

namespace Camelid.Training.Tests.Model;

/// <summary>Growing the vocabulary for continued pretraining with an extended tokenizer (Alpaca's resize rule).</summary>
public sealed class VocabularyResizeTests
{
    static readonly LlamaConfig Config = new() { Dim = 16, HiddenDim = 32, Layers = 2, Heads = 2, KvHeads = 1, VocabSize = 40, TrainedContextLength = 16 };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void New_rows_are_the_mean_of_the_old_ones_and_old_tokens_keep_their_logits(bool tied)
    {
        var before = LlamaParameters.Random(Config, seed: 4, tiedOutput: tied);
        var after = before.WithVocabulary(46);
        Assert.Equal(46, after.Config.VocabSize);
        foreach (var (grown, original) in new[] { (after.TokenEmbedding, before.TokenEmbedding) }.Concat(tied ? [] : new[] { (after.Output!, before.Output!) }))
        {
            Assert.Equal(original.Value, grown.Value.AsSpan(0, original.Count).ToArray());
            for (int i = 0; i < Config.Dim; i++)
            {
                double mean = Enumerable.Range(0, Config.VocabSize).Average(row => (double)original.Value[row * Config.Dim + i]);
                for (int row = Config.VocabSize; row < 46; row++)
                    Assert.Equal(mean, grown.Value[row * Config.Dim + i], 1e-6);
            }
        }
        Assert.Same(before.Layers, after.Layers);

        using var pool = new ComputePool(1);
        int[] tokens = [1, 5, 9, 33, 2, 7];
        var batch = new TokenBatch(1, tokens.Length, tokens, tokens);
        var old = new TrainingTransformer(before, pool).Logits(batch);
        var grownLogits = new TrainingTransformer(after, pool).Logits(batch);
        for (int t = 0; t < tokens.Length; t++)
            Assert.Equal(old.AsSpan(t * 40, 40).ToArray(), grownLogits.AsSpan(t * 46, 40).ToArray());
    }

    [Fact]
    public void A_vocabulary_cannot_shrink_and_the_same_size_is_the_same_model()
    {
        var p = LlamaParameters.Random(Config, seed: 1, tiedOutput: true);
        Assert.Same(p, p.WithVocabulary(40));
        Assert.Contains("grow, not shrink", Assert.Throws<ArgumentException>(() => p.WithVocabulary(39)).Message);
    }
}
