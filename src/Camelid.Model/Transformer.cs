using Camelid.Tensors.Kernels;
using Camelid.Tensors.Threading;

namespace Camelid.Model;

/// <summary>
/// The LLaMA forward pass (Touvron et al. 2023): pre-RMSNorm blocks of rotary self-attention with
/// grouped key/value heads and a SwiGLU feed-forward network, residual connections around both.
/// <see cref="Forward"/> handles a prompt of many tokens (prefill) and a single token (decode) alike;
/// the per-token scratch lives in <see cref="ActivationBuffers"/> so decoding allocates nothing.
/// </summary>
public sealed class Transformer(LlamaConfig config, LlamaWeights weights, ComputePool pool)
{
    readonly float[] _ropeInvFreq = config.RopeInverseFrequencies(); // (headSize/2)
    readonly ActivationBuffers _buffers = new(config);

    public LlamaConfig Config => config;
    public ComputePool Pool => pool;

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions cache.Length.. and appends their keys/values to the cache.
    /// Writes logits (T, vocab) for every token when <paramref name="allLogits"/>, else only the last token's (vocab).
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits)
    {
        int T = tokens.Length, dim = config.Dim, kvDim = config.KvDim, hidden = config.HiddenDim;
        int start = cache.Length;
        if (T == 0)
            throw new ArgumentException("at least one token is needed", nameof(tokens));
        if (start + T > cache.Capacity)
            throw new ContextOverflowException(start + T, cache.Capacity);

        var b = _buffers.Reserve(T);
        Span<float> x = b.X.AsSpan(0, T * dim);          // (T, dim) residual stream
        Span<float> xn = b.XNorm.AsSpan(0, T * dim);     // (T, dim) normalised input of a sub-layer
        Span<float> q = b.Q.AsSpan(0, T * dim);          // (T, dim)
        Span<float> k = b.K.AsSpan(0, T * kvDim);        // (T, kvDim)
        Span<float> v = b.V.AsSpan(0, T * kvDim);        // (T, kvDim)
        Span<float> att = b.Attention.AsSpan(0, T * dim); // (T, dim)
        Span<float> gate = b.Gate.AsSpan(0, T * hidden); // (T, hidden)
        Span<float> up = b.Up.AsSpan(0, T * hidden);     // (T, hidden)
        Span<float> delta = b.Delta.AsSpan(0, T * dim);  // (T, dim) a sub-layer's output

        for (int t = 0; t < T; t++)
            weights.Embed(tokens[t], x.Slice(t * dim, dim));

        for (int l = 0; l < config.Layers; l++)
        {
            var layer = weights.Layers[l];

            // Self-attention: x += Wo · attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))
            RmsNormRows(xn, x, layer.AttentionNorm, T);
            layer.Wq.Forward(xn, q, T, pool);
            layer.Wk.Forward(xn, k, T, pool);
            layer.Wv.Forward(xn, v, T, pool);
            for (int t = 0; t < T; t++)
            {
                Ops.RopeInterleaved(q.Slice(t * dim, dim), config.Heads, config.HeadSize, start + t, _ropeInvFreq);
                Ops.RopeInterleaved(k.Slice(t * kvDim, kvDim), config.KvHeads, config.HeadSize, start + t, _ropeInvFreq);
                k.Slice(t * kvDim, kvDim).CopyTo(cache.KeyAt(l, start + t));
                v.Slice(t * kvDim, kvDim).CopyTo(cache.ValueAt(l, start + t));
            }
            Attention.Causal(att, q, cache, l, start, T, config, pool);
            layer.Wo.Forward(att, delta, T, pool);
            Ops.Add(x, delta);

            // Feed-forward: x += W2 · (silu(W1·n(x)) ⊙ W3·n(x))
            RmsNormRows(xn, x, layer.FfnNorm, T);
            layer.W1.Forward(xn, gate, T, pool);
            layer.W3.Forward(xn, up, T, pool);
            Ops.SwiGlu(gate, up);
            layer.W2.Forward(gate, delta, T, pool);
            Ops.Add(x, delta);
        }
        cache.Advance(T);

        // Logits from the final norm; only the last row unless the caller wants every position.
        int first = allLogits ? 0 : T - 1, rows = T - first;
        RmsNormRows(xn, x.Slice(first * dim), weights.OutputNorm, rows);
        weights.Output.Forward(xn, logits, rows, pool);
    }

    void RmsNormRows(Span<float> output, ReadOnlySpan<float> input, float[] weight, int rows)
    {
        int dim = config.Dim;
        for (int t = 0; t < rows; t++)
            Ops.RmsNorm(output.Slice(t * dim, dim), input.Slice(t * dim, dim), weight, config.RmsNormEps);
    }

    /// <summary>Activation scratch, grown to the largest batch seen and then reused.</summary>
    sealed class ActivationBuffers(LlamaConfig c)
    {
        int _tokens;
        public float[] X = [], XNorm = [], Q = [], K = [], V = [], Attention = [], Gate = [], Up = [], Delta = [];

        public ActivationBuffers Reserve(int tokens)
        {
            if (tokens <= _tokens)
                return this;
            _tokens = tokens;
            X = new float[tokens * c.Dim];
            XNorm = new float[tokens * c.Dim];
            Q = new float[tokens * c.Dim];
            K = new float[tokens * c.KvDim];
            V = new float[tokens * c.KvDim];
            Attention = new float[tokens * c.Dim];
            Gate = new float[tokens * c.HiddenDim];
            Up = new float[tokens * c.HiddenDim];
            Delta = new float[tokens * c.Dim];
            return this;
        }
    }
}

/// <summary>The prompt plus generated tokens do not fit the context that was allocated.</summary>
public sealed class ContextOverflowException(int needed, int capacity)
    : Exception($"{needed} tokens do not fit the context of {capacity}; use a shorter prompt or a larger --ctx (up to the model's trained context)")
{
    public int Needed { get; } = needed;
    public int Capacity { get; } = capacity;
}
