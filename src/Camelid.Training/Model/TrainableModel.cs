using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Training.Model.Projections;


namespace Camelid.Training.Model;

/// <summary>One block as the training transformer runs it: two norm gains and seven projections.</summary>
public sealed class TrainableBlock
{
    public required Parameter AttentionNorm { get; init; } // (1, dim)
    public required Parameter FfnNorm { get; init; }       // (1, dim)
    public required Projection Q { get; init; }            // (dim, dim)
    public required Projection K { get; init; }            // (kvDim, dim)
    public required Projection V { get; init; }            // (kvDim, dim)
    public required Projection O { get; init; }            // (dim, dim)
    public required Projection Gate { get; init; }         // (hidden, dim)  W1
    public required Projection Up { get; init; }           // (hidden, dim)  W3
    public required Projection Down { get; init; }         // (dim, hidden)  W2

    public Projection this[BlockMatrix matrix] => matrix switch
    {
        BlockMatrix.Q => Q,
        BlockMatrix.K => K,
        BlockMatrix.V => V,
        BlockMatrix.O => O,
        BlockMatrix.Gate => Gate,
        BlockMatrix.Up => Up,
        BlockMatrix.Down => Down,
        _ => throw new ArgumentOutOfRangeException(nameof(matrix)),
    };

    public IEnumerable<Projection> Projections => [Q, K, V, O, Gate, Up, Down];
}

/// <summary>
/// The model the training transformer runs: embedding, blocks of projections, final norm and head. Full fine-tuning
/// and pretraining wrap <see cref="LlamaParameters"/> in dense projections (<see cref="Dense"/>); LoRA replaces some
/// projections by adapters over frozen ones (<see cref="WithProjections"/>); QLoRA's projections are quantized.
/// </summary>
public sealed class TrainableModel
{
    public required LlamaConfig Config { get; init; }
    public required Parameter TokenEmbedding { get; init; } // (vocab, dim)
    public required TrainableBlock[] Layers { get; init; }
    public required Parameter OutputNorm { get; init; }     // (1, dim)
    /// <summary>The output head (vocab, dim): over the embedding's parameter when the two are tied.</summary>
    public required Projection Head { get; init; }

    /// <summary>Every parameter the optimizer updates, once each, in model order.</summary>
    /// <remarks>The order is <see cref="LlamaParameters.All"/>'s (Gate, Down, Up = W1, W2, W3): the optimizer's and the checkpoints'.</remarks>
    public IReadOnlyList<Parameter> TrainableParameters =>
        ((IEnumerable<Parameter>)[TokenEmbedding])
        .Concat(Layers.SelectMany(l => ((IEnumerable<Parameter>)[l.AttentionNorm])
            .Concat(l.Q.TrainableParameters).Concat(l.K.TrainableParameters).Concat(l.V.TrainableParameters).Concat(l.O.TrainableParameters)
            .Append(l.FfnNorm)
            .Concat(l.Gate.TrainableParameters).Concat(l.Down.TrainableParameters).Concat(l.Up.TrainableParameters)))
        .Append(OutputNorm)
        .Concat(Head.TrainableParameters)
        .Where(p => p.Trainable)
        .Distinct() // a tied head trains the embedding's parameter, listed once
        .ToList();

    /// <summary>What is trained, for a run's fingerprint: a resumed run must train the same parameters the same way.</summary>
    public string Describe()
    {
        long count = TrainableParameters.Sum(p => (long)p.Count);
        var adapters = Layers.SelectMany(l => l.Projections).Append(Head).OfType<LoraProjection>().ToList();
        if (adapters.Count == 0)
            return $"{count} parameters";
        var first = adapters[0];
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{count} parameters in {adapters.Count} LoRA adapters (r={first.Rank} scale={first.Scale:R} dropout={first.Dropout:R}) over {first.Base.Kind}");
    }

    public void ZeroGradients()
    {
        foreach (var p in TrainableParameters)
            Array.Clear(p.Gradient!);
    }

    /// <summary>Every weight of <paramref name="parameters"/> as it is (trainable or frozen), each matrix a dense projection.</summary>
    public static TrainableModel Dense(LlamaParameters parameters) => new()
    {
        Config = parameters.Config,
        TokenEmbedding = parameters.TokenEmbedding,
        Layers = parameters.Layers.Select(l => new TrainableBlock
        {
            AttentionNorm = l.AttentionNorm,
            FfnNorm = l.FfnNorm,
            Q = new DenseProjection(l.Wq),
            K = new DenseProjection(l.Wk),
            V = new DenseProjection(l.Wv),
            O = new DenseProjection(l.Wo),
            Gate = new DenseProjection(l.W1),
            Up = new DenseProjection(l.W3),
            Down = new DenseProjection(l.W2),
        }).ToArray(),
        OutputNorm = parameters.OutputNorm,
        Head = new DenseProjection(parameters.OutputHead),
    };

    /// <summary>
    /// The same model with each projection replaced by <paramref name="replace"/>(layer, matrix, projection); the head is
    /// offered as (−1, <see cref="BlockMatrix.Head"/>).
    /// </summary>
    public TrainableModel WithProjections(Func<int, BlockMatrix, Projection, Projection> replace) => new()
    {
        Config = Config,
        TokenEmbedding = TokenEmbedding,
        Layers = Layers.Select((l, i) => new TrainableBlock
        {
            AttentionNorm = l.AttentionNorm,
            FfnNorm = l.FfnNorm,
            Q = replace(i, BlockMatrix.Q, l.Q),
            K = replace(i, BlockMatrix.K, l.K),
            V = replace(i, BlockMatrix.V, l.V),
            O = replace(i, BlockMatrix.O, l.O),
            Gate = replace(i, BlockMatrix.Gate, l.Gate),
            Up = replace(i, BlockMatrix.Up, l.Up),
            Down = replace(i, BlockMatrix.Down, l.Down),
        }).ToArray(),
        OutputNorm = OutputNorm,
        Head = replace(-1, BlockMatrix.Head, Head),
    };
}
