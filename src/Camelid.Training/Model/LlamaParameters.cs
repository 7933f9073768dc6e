using Camelid.Model;

namespace Camelid.Training.Model;

/// <summary>One block's trainable tensors; shapes as in <see cref="LayerWeights"/>.</summary>
public sealed class LayerParameters
{
    public required Parameter AttentionNorm { get; init; } // (1, dim)
    public required Parameter Wq { get; init; }            // (dim, dim)
    public required Parameter Wk { get; init; }            // (kvDim, dim)
    public required Parameter Wv { get; init; }            // (kvDim, dim)
    public required Parameter Wo { get; init; }            // (dim, dim)
    public required Parameter FfnNorm { get; init; }       // (1, dim)
    public required Parameter W1 { get; init; }            // (hidden, dim)  gate
    public required Parameter W2 { get; init; }            // (dim, hidden)  down
    public required Parameter W3 { get; init; }            // (hidden, dim)  up

    public IEnumerable<Parameter> All => [AttentionNorm, Wq, Wk, Wv, Wo, FfnNorm, W1, W2, W3];
}

/// <summary>
/// Every weight of a LLaMA model as f32 master copies with gradients: what the training engine updates.
/// Made from a loaded model (any format and type, dequantized) or initialised at random for pretraining.
/// </summary>
public sealed class LlamaParameters
{
    public required LlamaConfig Config { get; init; }
    public required Parameter TokenEmbedding { get; init; } // (vocab, dim)
    public required LayerParameters[] Layers { get; init; }
    public required Parameter OutputNorm { get; init; }     // (1, dim)
    /// <summary>The output head (vocab, dim); null when it is tied to <see cref="TokenEmbedding"/> (llama2.c models).</summary>
    public Parameter? Output { get; init; }

    public bool TiedOutput => Output == null;
    public Parameter OutputHead => Output ?? TokenEmbedding;

    /// <summary>Every parameter once, in file order (embedding, blocks, final norm, head).</summary>
    public IReadOnlyList<Parameter> All =>
    [
        TokenEmbedding,
        .. Layers.SelectMany(l => l.All),
        OutputNorm,
        .. Output == null ? Array.Empty<Parameter>() : [Output],
    ];

    public long Count => All.Sum(p => (long)p.Count);

    public void ZeroGradients()
    {
        foreach (var p in All)
            if (p.Gradient is { } g)
                Array.Clear(g);
    }

    /// <summary>Copies a loaded model's weights into f32 (dequantizing quantized and half-precision tensors).</summary>
    public static unsafe LlamaParameters FromModel(LlamaModel model)
    {
        var c = model.Config;
        var w = model.Weights;
        // Tied heads are views of the embedding's storage (llama2.c files name that view "output.weight").
        bool tied = w.Output.Tensor.Pointer == w.TokenEmbedding.Pointer;
        var names = TensorNames.Gguf;
        Parameter Matrix(string name, Camelid.Formats.TensorEntry t) => new(name, checked((int)t.Rows), checked((int)t.Cols), t.ToFloats());
        Parameter Vector(string name, float[] v) => new(name, 1, v.Length, (float[])v.Clone());
        return new LlamaParameters
        {
            Config = c,
            TokenEmbedding = Matrix(names.TokenEmbedding, w.TokenEmbedding),
            Layers = w.Layers.Select((l, i) => new LayerParameters
            {
                AttentionNorm = Vector(TensorNames.ForLayer(names.AttentionNorm, i), l.AttentionNorm),
                Wq = Matrix(TensorNames.ForLayer(names.Wq, i), l.Wq.Tensor),
                Wk = Matrix(TensorNames.ForLayer(names.Wk, i), l.Wk.Tensor),
                Wv = Matrix(TensorNames.ForLayer(names.Wv, i), l.Wv.Tensor),
                Wo = Matrix(TensorNames.ForLayer(names.Wo, i), l.Wo.Tensor),
                FfnNorm = Vector(TensorNames.ForLayer(names.FfnNorm, i), l.FfnNorm),
                W1 = Matrix(TensorNames.ForLayer(names.W1Gate, i), l.W1.Tensor),
                W2 = Matrix(TensorNames.ForLayer(names.W2Down, i), l.W2.Tensor),
                W3 = Matrix(TensorNames.ForLayer(names.W3Up, i), l.W3.Tensor),
            }).ToArray(),
            OutputNorm = Vector(names.OutputNorm, w.OutputNorm),
            Output = tied ? null : Matrix(names.Output, w.Output.Tensor),
        }.WithAllTrainable();
    }

    /// <summary>
    /// Random initialisation for pretraining, as llama2.c's model.py does it: N(0, 0.02) everywhere, the two
    /// residual projections (Wo, W2) scaled down by √(2·layers) (GPT-2), norm gains 1.
    /// </summary>
    public static LlamaParameters Random(LlamaConfig c, int seed, bool tiedOutput)
    {
        var names = TensorNames.Gguf;
        float residualStd = (float)(0.02 / Math.Sqrt(2.0 * c.Layers));
        var fills = new List<(Parameter Parameter, float Std)>();
        Parameter Normal(string name, int rows, int cols, float std)
        {
            var p = new Parameter(name, rows, cols);
            fills.Add((p, std));
            return p;
        }
        Parameter Ones(string name) { var p = new Parameter(name, 1, c.Dim); p.Value.AsSpan().Fill(1f); return p; }
        var parameters = new LlamaParameters
        {
            Config = c,
            TokenEmbedding = Normal(names.TokenEmbedding, c.VocabSize, c.Dim, 0.02f),
            Layers = Enumerable.Range(0, c.Layers).Select(i => new LayerParameters
            {
                AttentionNorm = Ones(TensorNames.ForLayer(names.AttentionNorm, i)),
                Wq = Normal(TensorNames.ForLayer(names.Wq, i), c.Dim, c.Dim, 0.02f),
                Wk = Normal(TensorNames.ForLayer(names.Wk, i), c.KvDim, c.Dim, 0.02f),
                Wv = Normal(TensorNames.ForLayer(names.Wv, i), c.KvDim, c.Dim, 0.02f),
                Wo = Normal(TensorNames.ForLayer(names.Wo, i), c.Dim, c.Dim, residualStd),
                FfnNorm = Ones(TensorNames.ForLayer(names.FfnNorm, i)),
                W1 = Normal(TensorNames.ForLayer(names.W1Gate, i), c.HiddenDim, c.Dim, 0.02f),
                W2 = Normal(TensorNames.ForLayer(names.W2Down, i), c.Dim, c.HiddenDim, residualStd),
                W3 = Normal(TensorNames.ForLayer(names.W3Up, i), c.HiddenDim, c.Dim, 0.02f),
            }).ToArray(),
            OutputNorm = Ones(names.OutputNorm),
            Output = tiedOutput ? null : Normal(names.Output, c.VocabSize, c.Dim, 0.02f),
        };
        // Each tensor draws from its own generator, seeded by (seed, its index): the same weights whatever the
        // number of threads that fill them (a 1.1B model takes a minute on one core).
        Parallel.For(0, fills.Count, i => FillNormal(fills[i].Parameter.Value, fills[i].Std, unchecked(seed * 1_000_003 + i)));
        return parameters.WithAllTrainable();
    }

    /// <summary>
    /// The same model with a vocabulary of <paramref name="vocabSize"/> tokens (at least the current one), for continued
    /// pretraining with an extended tokenizer: existing rows are kept, new rows of the embedding (and of an untied head)
    /// are the mean of the existing rows, as Alpaca's smart_tokenizer_and_embedding_resize initialises added tokens.
    /// Every other parameter is shared with this instance.
    /// </summary>
    public LlamaParameters WithVocabulary(int vocabSize)
    {
        int old = Config.VocabSize, dim = Config.Dim;
        if (vocabSize < old)
            throw new ArgumentException($"the tokenizer has {vocabSize} tokens but the model {old}: a vocabulary can grow, not shrink");
        if (vocabSize == old)
            return this;
        Parameter Grown(Parameter p)
        {
            var values = new float[(long)vocabSize * dim];
            Array.Copy(p.Value, values, p.Value.Length);
            var mean = new double[dim];
            for (int row = 0; row < old; row++)
                for (int i = 0; i < dim; i++)
                    mean[i] += p.Value[row * dim + i];
            for (int row = old; row < vocabSize; row++)
                for (int i = 0; i < dim; i++)
                    values[row * dim + i] = (float)(mean[i] / old);
            return new Parameter(p.Name, vocabSize, dim, values) { Trainable = p.Trainable };
        }
        return new LlamaParameters
        {
            Config = Config with { VocabSize = vocabSize },
            TokenEmbedding = Grown(TokenEmbedding),
            Layers = Layers,
            OutputNorm = OutputNorm,
            Output = Output == null ? null : Grown(Output),
        };
    }

    /// <summary>Box–Muller pairs; 1 - NextDouble() keeps the logarithm's argument in (0, 1].</summary>
    static void FillNormal(float[] values, float std, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < values.Length; i += 2)
        {
            double radius = std * Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())), angle = 2 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < values.Length)
                values[i + 1] = (float)(radius * Math.Sin(angle));
        }
    }

    LlamaParameters WithAllTrainable()
    {
        foreach (var p in All)
            p.Trainable = true;
        return this;
    }
}
