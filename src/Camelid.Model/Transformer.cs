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
    /// Whether a position's keys, values and logits come out bit-identical however the tokens before it were split
    /// into calls: one prompt chunk, several, or one decode step each. True where prefill runs the decode kernels
    /// and the per-row attention (AVX2-only CPUs, weights their kernels cover); then every cached position of a
    /// sequence, its answer's included, is exactly what a fresh prefill would compute. Elsewhere only positions
    /// computed in the same prompt chunks are.
    /// </summary>
    public bool PositionsIndependentOfChunking =>
        Attention.PrefillIsPerRow(config.HeadSize)
        && weights.Layers.All(l => l.Wq.TokensIndependent && l.Wk.TokensIndependent && l.Wv.TokensIndependent && l.Wo.TokensIndependent
            && l.W1.TokensIndependent && l.W2.TokensIndependent && l.W3.TokensIndependent);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions cache.Length.. and appends their keys/values to the cache.
    /// Writes logits (T, vocab) for every token when <paramref name="allLogits"/>, else only the last token's (vocab).
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits)
    {
        int T = tokens.Length;
        RunBlocks(tokens, new ReadOnlySpan<KvCache>(ref cache), new ReadOnlySpan<int>(ref T));
        int first = allLogits ? 0 : T - 1;
        Head(_buffers.X.AsSpan(first * config.Dim, (T - first) * config.Dim), T - first, logits, independentTokens: false);
    }

    /// <summary>
    /// One decode step for a batch of unrelated sequences: token b continues the sequence in caches[b].
    /// Writes logits (B, vocab). Each sequence's logits are bit-identical to a <see cref="Forward"/> of its token
    /// alone, so a request's output never depends on what else is being served (continuous batching).
    /// </summary>
    public void ForwardDecode(ReadOnlySpan<int> tokens, ReadOnlySpan<KvCache> caches, Span<float> logits)
    {
        int B = tokens.Length;
        if (caches.Length != B)
            throw new ArgumentException($"{B} tokens but {caches.Length} caches; a decode step takes one token per sequence");
        Span<int> ones = B <= 256 ? stackalloc int[B] : new int[B];
        ones.Fill(1);
        RunBlocks(tokens, caches, ones);
        Head(_buffers.X.AsSpan(0, B * config.Dim), B, logits, independentTokens: true);
    }

    /// <summary>
    /// The final-normed hidden state (T, dim) of every token, the model's sentence representation
    /// (embeddings pool it). Appends to the cache like <see cref="Forward"/>.
    /// </summary>
    public void ForwardHidden(ReadOnlySpan<int> tokens, KvCache cache, Span<float> hidden)
    {
        int T = tokens.Length;
        RunBlocks(tokens, new ReadOnlySpan<KvCache>(ref cache), new ReadOnlySpan<int>(ref T));
        RmsNormRows(hidden, _buffers.X.AsSpan(0, T * config.Dim), weights.OutputNorm, T);
    }

    /// <summary>
    /// The transformer blocks over a batch of sequences laid end to end: sequence i contributes
    /// <paramref name="counts"/>[i] consecutive rows of <paramref name="tokens"/> and continues <paramref name="caches"/>[i].
    /// Leaves the residual stream (T, dim) in the X buffer.
    /// </summary>
    void RunBlocks(ReadOnlySpan<int> tokens, ReadOnlySpan<KvCache> caches, ReadOnlySpan<int> counts)
    {
        int T = tokens.Length, dim = config.Dim, kvDim = config.KvDim, hidden = config.HiddenDim;
        if (T == 0)
            throw new ArgumentException("at least one token is needed", nameof(tokens));
        for (int i = 0; i < caches.Length; i++)
            if (caches[i].Length + counts[i] > caches[i].Capacity)
                throw new ContextOverflowException(caches[i].Length + counts[i], caches[i].Capacity);
        // Rows of different sequences must not share the prefill GEMM, whose rounding differs from decode's.
        bool independentTokens = caches.Length > 1;
        bool oneTokenEach = caches.Length > 1 && caches.Length == T;

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
            layer.Wq.Forward(xn, q, T, pool, independentTokens);
            layer.Wk.Forward(xn, k, T, pool, independentTokens);
            layer.Wv.Forward(xn, v, T, pool, independentTokens);
            for (int i = 0, row = 0; i < caches.Length; row += counts[i], i++)
            {
                var cache = caches[i];
                int start = cache.Length, n = counts[i];
                for (int t = row; t < row + n; t++)
                {
                    int position = start + t - row;
                    Ops.RopeInterleaved(q.Slice(t * dim, dim), config.Heads, config.HeadSize, position, _ropeInvFreq);
                    Ops.RopeInterleaved(k.Slice(t * kvDim, kvDim), config.KvHeads, config.HeadSize, position, _ropeInvFreq);
                    k.Slice(t * kvDim, kvDim).CopyTo(cache.KeyAt(l, position));
                    v.Slice(t * kvDim, kvDim).CopyTo(cache.ValueAt(l, position));
                }
                if (!oneTokenEach)
                    Attention.Causal(att.Slice(row * dim, n * dim), q.Slice(row * dim, n * dim), cache, l, start, n, config, pool);
            }
            // A decode step of many sequences: their attention in one parallel loop rather than one loop each.
            if (oneTokenEach)
                Attention.DecodeStep(att, q, caches, l, config, pool);
            layer.Wo.Forward(att, delta, T, pool, independentTokens);
            Ops.Add(x, delta);

            // Feed-forward: x += W2 · (silu(W1·n(x)) ⊙ W3·n(x))
            RmsNormRows(xn, x, layer.FfnNorm, T);
            layer.W1.Forward(xn, gate, T, pool, independentTokens);
            layer.W3.Forward(xn, up, T, pool, independentTokens);
            Ops.SwiGlu(gate, up);
            layer.W2.Forward(gate, delta, T, pool, independentTokens);
            Ops.Add(x, delta);
        }
        for (int i = 0; i < caches.Length; i++)
            caches[i].Advance(counts[i]);
    }

    /// <summary>Logits (rows, vocab) of residual rows <paramref name="x"/>, through the final norm and the output head.</summary>
    void Head(ReadOnlySpan<float> x, int rows, Span<float> logits, bool independentTokens)
    {
        var xn = _buffers.XNorm.AsSpan(0, rows * config.Dim);
        RmsNormRows(xn, x, weights.OutputNorm, rows);
        weights.Output.Forward(xn, logits, rows, pool, independentTokens);
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
