namespace Camelid.Training.Model;

/// <summary>
/// What one block's forward pass saves for its backward pass, for a micro-batch of T = batch·length tokens.
/// With gradient checkpointing only <see cref="Input"/> is kept per layer and the rest is recomputed into one
/// shared instance during the backward pass.
/// </summary>
sealed class LayerActivations
{
    public LayerActivations(int tokens, int batch, Camelid.Model.LlamaConfig c, float[]? input = null)
    {
        Input = input ?? new float[tokens * c.Dim];
        AttentionNormed = new float[tokens * c.Dim];
        AttentionRstd = new float[tokens];
        Q = new float[tokens * c.Dim];
        K = new float[tokens * c.KvDim];
        V = new float[tokens * c.KvDim];
        Attention = new float[tokens * c.Dim];
        AttentionLse = new float[batch * c.Heads * (tokens / batch)];
        Middle = new float[tokens * c.Dim];
        FfnNormed = new float[tokens * c.Dim];
        FfnRstd = new float[tokens];
        Gate = new float[tokens * c.HiddenDim];
        Up = new float[tokens * c.HiddenDim];
        Hidden = new float[tokens * c.HiddenDim];
    }

    public float[] Input;           // (T, dim) the residual stream entering the block
    public float[] AttentionNormed; // (T, dim)
    public float[] AttentionRstd;   // (T)
    public float[] Q;               // (T, dim) after RoPE
    public float[] K;               // (T, kvDim) after RoPE
    public float[] V;               // (T, kvDim)
    public float[] Attention;       // (T, dim) attention output, before Wo
    public float[] AttentionLse;    // (batch, heads, length)
    public float[] Middle;          // (T, dim) residual stream after the attention sub-layer
    public float[] FfnNormed;       // (T, dim)
    public float[] FfnRstd;         // (T)
    public float[] Gate;            // (T, hidden) W1·x, before SiLU
    public float[] Up;              // (T, hidden) W3·x
    public float[] Hidden;          // (T, hidden) silu(gate) ⊙ up

    public long Bytes => 4L * (Input.Length + AttentionNormed.Length + AttentionRstd.Length + Q.Length + K.Length + V.Length + Attention.Length
        + AttentionLse.Length + Middle.Length + FfnNormed.Length + FfnRstd.Length + Gate.Length + Up.Length + Hidden.Length);
}
