using Camelid.Model;
using Camelid.Model.Conversion;
using Camelid.Tokenization;
using Camelid.Training.Model;

namespace Camelid.Training.Tests.Export;

/// <summary>Small random models with the synthetic LLaMA vocabulary, and the comparisons the export tests share.</summary>
static class ExportTestModels
{
    public static readonly LlamaConfig SmallConfig = new()
    {
        Dim = 64, HiddenDim = 96, Layers = 2, Heads = 4, KvHeads = 2, VocabSize = 320, TrainedContextLength = 128,
        RmsNormEps = 1e-5f, RopeTheta = 10000,
    };

    /// <summary>
    /// Random weights whose Q and K are scaled up so attention is sharp: with the N(0, 0.02) initialisation the
    /// softmax is nearly uniform and a wrong Q/K row order would hardly change the logits.
    /// </summary>
    public static LlamaParameters Random(LlamaConfig config, bool tiedOutput, int seed = 11)
    {
        var p = LlamaParameters.Random(config, seed, tiedOutput);
        foreach (var layer in p.Layers)
            foreach (var m in (Parameter[])[layer.Wq, layer.Wk])
                for (int i = 0; i < m.Count; i++)
                    m.Value[i] *= 15;
        return p;
    }

    public static Tokenizer SyntheticTokenizer(int size)
    {
        var s = SyntheticVocabulary.Create(size);
        return Tokenizer.Create(new Vocabulary(Vocabulary.SentencePieceModel, null, s.Tokens, s.Scores,
            s.TokenTypes.Select(t => (TokenType)t).ToArray(), null, SyntheticVocabulary.BosId, SyntheticVocabulary.EosId,
            SyntheticVocabulary.UnknownId, null, AddBos: true, AddEos: false, AddSpacePrefix: true));
    }

    /// <summary>Every position's logits (T, vocab) from a model loaded off disk.</summary>
    public static float[] Logits(string path, int[] tokens, string? tokenizerPath = null)
    {
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1, TokenizerPath = tokenizerPath });
        return model.Forward(tokens, model.NewKvCache(tokens.Length), allLogits: true);
    }

    public static double MaxDifference(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    public static double MaxDifference(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    /// <summary>The same parameters with Q/K rows in the given order (to show what a wrong permutation would do).</summary>
    public static LlamaParameters WithQueryKeyRows(LlamaParameters p, Func<float[], int, int, float[]> reorder) => new()
    {
        Config = p.Config,
        TokenEmbedding = p.TokenEmbedding,
        OutputNorm = p.OutputNorm,
        Output = p.Output,
        Layers = p.Layers.Select(l => new LayerParameters
        {
            AttentionNorm = l.AttentionNorm,
            Wq = new Parameter(l.Wq.Name, l.Wq.Rows, l.Wq.Cols, reorder(l.Wq.Value, p.Config.Heads, l.Wq.Cols)),
            Wk = new Parameter(l.Wk.Name, l.Wk.Rows, l.Wk.Cols, reorder(l.Wk.Value, p.Config.KvHeads, l.Wk.Cols)),
            Wv = l.Wv, Wo = l.Wo, FfnNorm = l.FfnNorm, W1 = l.W1, W2 = l.W2, W3 = l.W3,
        }).ToArray(),
    };
}
