using Camelid.Tensors.Threading;
using Camelid.Training.Model.Projections;
using static Camelid.Tensors.Training.Differentiable;

namespace Camelid.Training.Model;

/// <summary>
/// The LLaMA forward pass with its backward pass, for training: the same model as the inference engine's
/// <c>Transformer</c>, on f32 master weights, over micro-batches of equal-length sequences (no KV cache).
/// <see cref="Backward"/> mirrors <see cref="Forward"/> step by step in reverse. Gradients are added to
/// each parameter's <see cref="Parameter.Gradient"/> (so micro-batches accumulate) scaled by the caller's
/// loss scale: 1 / (trained tokens of the whole optimizer step), making the gradient that of the mean loss.
/// With <see cref="GradientCheckpointing"/>, only each block's input is kept and the block is recomputed
/// during the backward pass (Chen et al. 2016; the LLaMA paper's activation rematerialisation).
/// Every matrix product goes through a <see cref="Projection"/>, so the same code trains all weights, LoRA adapters
/// over frozen f32 weights, or adapters over a quantized base (QLoRA); frozen parameters get no gradient.
/// </summary>
public sealed class TrainingTransformer(TrainableModel model, ComputePool pool, bool gradientCheckpointing = false)
{
    /// <summary>
    /// Logits materialised at once (rows × vocab floats, 128 MiB): the head is the largest activation, but the
    /// fewer chunks, the fewer passes over the head's weight and gradient (which are as large as a whole layer).
    /// </summary>
    const int HeadChunkFloats = 32 << 20;

    readonly Camelid.Model.LlamaConfig _c = model.Config;
    readonly float[] _inverseFrequencies = model.Config.RopeInverseFrequencies();
    Buffers? _buffers;

    /// <summary>Full training of every weight of <paramref name="parameters"/>.</summary>
    public TrainingTransformer(LlamaParameters parameters, ComputePool pool, bool gradientCheckpointing = false)
        : this(TrainableModel.Dense(parameters), pool, gradientCheckpointing) { }

    public TrainableModel Model => model;
    public bool GradientCheckpointing => gradientCheckpointing;

    /// <summary>Bytes of activations and gradient scratch held for the largest micro-batch so far.</summary>
    public long ActivationBytes => _buffers?.Bytes ?? 0;

    /// <summary>
    /// Forward and backward over one micro-batch; returns the sum of its per-token losses. <paramref name="noiseKey"/>
    /// selects the dropout masks (LoRA dropout), so a step is reproducible from its key.
    /// </summary>
    public double ForwardBackward(TokenBatch batch, float lossScale, ulong noiseKey = 0)
    {
        var b = Prepare(batch);
        b.Pass = new ForwardPass(Training: true, noiseKey);
        Forward(batch, b, keepActivations: true);
        double loss = HeadForwardBackward(batch, b, lossScale, backward: true);
        Backward(batch, b);
        return loss;
    }

    /// <summary>The sum of per-token losses of a micro-batch, without gradients (validation).</summary>
    public double Loss(TokenBatch batch)
    {
        var b = Prepare(batch);
        b.Pass = ForwardPass.Inference;
        Forward(batch, b, keepActivations: false);
        return HeadForwardBackward(batch, b, lossScale: 0, backward: false);
    }

    /// <summary>Logits (rows·length, vocab) of every position (for tests and tools).</summary>
    public float[] Logits(TokenBatch batch)
    {
        var b = Prepare(batch);
        b.Pass = ForwardPass.Inference;
        Forward(batch, b, keepActivations: false);
        int T = batch.Tokens, dim = _c.Dim;
        RmsNormForward(b.Final, b.FinalRstd, b.FinalInput, model.OutputNorm.Value, T, dim, _c.RmsNormEps);
        var logits = new float[T * _c.VocabSize];
        model.Head.Forward(logits, b.Final, T, pool, b.Pass);
        return logits;
    }

    void Forward(TokenBatch batch, Buffers b, bool keepActivations)
    {
        EmbeddingForward(b.LayerInput(0), batch.Inputs, model.TokenEmbedding.Value, _c.Dim);
        for (int l = 0; l < _c.Layers; l++)
        {
            var a = b.For(l, keepActivations);
            BlockForward(a, model.Layers[l], batch, b, b.LayerInput(l + 1));
        }
    }

    /// <summary>
    /// One block: x += Wo·attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x)); x += W2·(silu(W1·n(x)) ⊙ W3·n(x)).
    /// Without <paramref name="output"/> (a recomputation for the backward pass, which needs the block's
    /// activations but not its output) the last product, W2's, is skipped.
    /// </summary>
    void BlockForward(LayerActivations a, TrainableBlock p, TokenBatch batch, Buffers b, float[]? output)
    {
        int T = batch.Tokens, dim = _c.Dim, hidden = _c.HiddenDim;
        var shape = Shape(batch);
        var pass = b.Pass;
        RmsNormForward(a.AttentionNormed, a.AttentionRstd, a.Input, p.AttentionNorm.Value, T, dim, _c.RmsNormEps);
        p.Q.Forward(a.Q, a.AttentionNormed, T, pool, pass);
        p.K.Forward(a.K, a.AttentionNormed, T, pool, pass);
        p.V.Forward(a.V, a.AttentionNormed, T, pool, pass);
        RotaryForward(a.Q, T, batch.Length, _c.Heads, _c.HeadSize, b.Cos, b.Sin);
        RotaryForward(a.K, T, batch.Length, _c.KvHeads, _c.HeadSize, b.Cos, b.Sin);
        AttentionForward(a.Attention, a.AttentionLse, a.Q, a.K, a.V, shape, pool);
        p.O.Forward(b.Delta, a.Attention, T, pool, pass);
        Add(a.Middle, a.Input, b.Delta, T * dim);

        RmsNormForward(a.FfnNormed, a.FfnRstd, a.Middle, p.FfnNorm.Value, T, dim, _c.RmsNormEps);
        p.Gate.Forward(a.Gate, a.FfnNormed, T, pool, pass);
        p.Up.Forward(a.Up, a.FfnNormed, T, pool, pass);
        SwiGluForward(a.Hidden.AsSpan(0, T * hidden), a.Gate.AsSpan(0, T * hidden), a.Up.AsSpan(0, T * hidden), pool);
        if (output == null)
            return;
        p.Down.Forward(b.Delta, a.Hidden, T, pool, pass);
        Add(output, a.Middle, b.Delta, T * dim);
    }

    /// <summary>
    /// Final norm, output head and cross-entropy in chunks of rows; with <paramref name="backward"/> also the
    /// head's gradient and dLoss/d(final norm input) into <c>b.DX</c>.
    /// </summary>
    double HeadForwardBackward(TokenBatch batch, Buffers b, float lossScale, bool backward)
    {
        int T = batch.Tokens, dim = _c.Dim, vocab = _c.VocabSize;
        RmsNormForward(b.Final, b.FinalRstd, b.FinalInput, model.OutputNorm.Value, T, dim, _c.RmsNormEps);
        double loss = 0;
        int chunk = HeadChunkRows(T, vocab);
        for (int row = 0; row < T; row += chunk)
        {
            int rows = Math.Min(chunk, T - row);
            var x = b.Final.AsSpan(row * dim, rows * dim);
            var logits = b.Logits.AsSpan(0, rows * vocab);
            model.Head.Forward(logits, x, rows, pool, b.Pass);
            loss += CrossEntropyForwardBackward(logits, batch.Targets.AsSpan(row, rows), vocab, lossScale, pool);
            if (backward)
                model.Head.Backward(b.DNormed.AsSpan(row * dim, rows * dim), logits, x, rows, pool, accumulateInput: false);
        }
        if (backward)
        {
            Array.Clear(b.DX, 0, T * dim);
            RmsNormBackward(b.DX, model.OutputNorm.Gradient, b.DNormed, b.FinalRstd, b.FinalInput, model.OutputNorm.Value, T, dim);
        }
        return loss;
    }

    /// <summary>The blocks in reverse, from dLoss/d(last block output) in <c>b.DX</c> down to the embedding.</summary>
    void Backward(TokenBatch batch, Buffers b)
    {
        for (int l = _c.Layers - 1; l >= 0; l--)
        {
            var a = b.For(l, keepActivations: true);
            if (gradientCheckpointing)
                BlockForward(a, model.Layers[l], batch, b, output: null);
            BlockBackward(a, model.Layers[l], batch, b);
        }
        if (model.TokenEmbedding.Gradient is { } embeddingGradient)
            EmbeddingBackward(embeddingGradient, batch.Inputs, b.DX, _c.Dim);
    }

    /// <summary><see cref="BlockForward"/> in reverse: dx (in b.DX) goes from d(block output) to d(block input).</summary>
    void BlockBackward(LayerActivations a, TrainableBlock p, TokenBatch batch, Buffers b)
    {
        int T = batch.Tokens, hidden = _c.HiddenDim, dim = _c.Dim;
        var shape = Shape(batch);
        float[] dx = b.DX;

        // x_out = x_mid + W2·(silu(W1·n) ⊙ W3·n), n = ffn_norm(x_mid)
        p.Down.Backward(b.DHidden, dx, a.Hidden, T, pool, accumulateInput: false);
        SwiGluBackward(b.DGate.AsSpan(0, T * hidden), b.DUp.AsSpan(0, T * hidden), b.DHidden.AsSpan(0, T * hidden), a.Gate.AsSpan(0, T * hidden), a.Up.AsSpan(0, T * hidden), pool);
        p.Gate.Backward(b.DNormed, b.DGate, a.FfnNormed, T, pool, accumulateInput: false);
        p.Up.Backward(b.DNormed, b.DUp, a.FfnNormed, T, pool, accumulateInput: true);
        RmsNormBackward(dx, p.FfnNorm.Gradient, b.DNormed, a.FfnRstd, a.Middle, p.FfnNorm.Value, T, dim);

        // x_mid = x_in + Wo·attention(rope(Wq·n), rope(Wk·n), Wv·n), n = attention_norm(x_in)
        p.O.Backward(b.DAttention, dx, a.Attention, T, pool, accumulateInput: false);
        AttentionBackward(b.DQ, b.DK, b.DV, b.DAttention, a.Attention, a.AttentionLse, a.Q, a.K, a.V, shape, pool);
        RotaryBackward(b.DQ, T, batch.Length, _c.Heads, _c.HeadSize, b.Cos, b.Sin);
        RotaryBackward(b.DK, T, batch.Length, _c.KvHeads, _c.HeadSize, b.Cos, b.Sin);
        p.Q.Backward(b.DNormed, b.DQ, a.AttentionNormed, T, pool, accumulateInput: false);
        p.K.Backward(b.DNormed, b.DK, a.AttentionNormed, T, pool, accumulateInput: true);
        p.V.Backward(b.DNormed, b.DV, a.AttentionNormed, T, pool, accumulateInput: true);
        RmsNormBackward(dx, p.AttentionNorm.Gradient, b.DNormed, a.AttentionRstd, a.Input, p.AttentionNorm.Value, T, dim);
    }

    static int HeadChunkRows(int tokens, int vocab) => Math.Clamp(HeadChunkFloats / vocab, 1, tokens);

    AttentionShape Shape(TokenBatch batch) => new(batch.Rows, batch.Length, _c.Heads, _c.KvHeads, _c.HeadSize);

    static void Add(float[] sum, float[] a, float[] b, int count) =>
        System.Numerics.Tensors.TensorPrimitives.Add(a.AsSpan(0, count), b.AsSpan(0, count), sum.AsSpan(0, count));

    Buffers Prepare(TokenBatch batch)
    {
        if (_buffers == null || _buffers.Rows != batch.Rows || _buffers.Length != batch.Length)
        {
            _buffers = null; // let the old set go before allocating the new one
            _buffers = new Buffers(batch.Rows, batch.Length, _c, gradientCheckpointing, _inverseFrequencies);
        }
        return _buffers;
    }

    /// <summary>Activations and gradient scratch for micro-batches of one (rows, length).</summary>
    sealed class Buffers
    {
        readonly LayerActivations[] _layers;   // one per layer, or one shared when checkpointing
        readonly float[][] _inputs;            // (layers + 1) × (T, dim): block inputs, the last is the final norm's input
        public readonly int Rows, Length;
        public readonly float[] Cos, Sin;      // (length, headSize/2)
        public readonly float[] Delta;         // (T, dim) a sub-layer's output
        public readonly float[] Final, FinalRstd, Logits;
        public readonly float[] DX, DNormed, DAttention, DQ, DK, DV, DHidden, DGate, DUp;
        public ForwardPass Pass;               // of the micro-batch being run

        public Buffers(int rows, int length, Camelid.Model.LlamaConfig c, bool checkpointing, float[] inverseFrequencies)
        {
            Rows = rows;
            Length = length;
            int T = rows * length;
            (Cos, Sin) = Camelid.Tensors.Training.Differentiable.RotaryTable(length, inverseFrequencies);
            _inputs = Enumerable.Range(0, c.Layers + 1).Select(_ => new float[T * c.Dim]).ToArray();
            _layers = checkpointing
                ? [new LayerActivations(T, rows, c, input: _inputs[0])]
                : Enumerable.Range(0, c.Layers).Select(l => new LayerActivations(T, rows, c, input: _inputs[l])).ToArray();
            Delta = new float[T * c.Dim];
            Final = new float[T * c.Dim];
            FinalRstd = new float[T];
            Logits = new float[HeadChunkRows(T, c.VocabSize) * c.VocabSize];
            DX = new float[T * c.Dim];
            DNormed = new float[T * c.Dim];
            DAttention = new float[T * c.Dim];
            DQ = new float[T * c.Dim];
            DK = new float[T * c.KvDim];
            DV = new float[T * c.KvDim];
            DHidden = new float[T * c.HiddenDim];
            DGate = new float[T * c.HiddenDim];
            DUp = new float[T * c.HiddenDim];
        }

        public float[] LayerInput(int layer) => _inputs[layer];
        public float[] FinalInput => _inputs[^1];

        /// <summary>Layer <paramref name="layer"/>'s activations, pointed at its saved input.</summary>
        public LayerActivations For(int layer, bool keepActivations)
        {
            var a = _layers.Length == 1 || !keepActivations ? _layers[0] : _layers[layer];
            a.Input = _inputs[layer];
            return a;
        }

        public long Bytes
        {
            get
            {
                long inputs = _inputs.Sum(i => 4L * i.Length);
                long layers = _layers.Sum(a => a.Bytes - 4L * a.Input.Length);
                long scratch = 4L * (Delta.Length + Final.Length + FinalRstd.Length + Logits.Length + DX.Length + DNormed.Length
                    + DAttention.Length + DQ.Length + DK.Length + DV.Length + DHidden.Length + DGate.Length + DUp.Length + Cos.Length + Sin.Length);
                return inputs + layers + scratch;
            }
        }
    }
}
