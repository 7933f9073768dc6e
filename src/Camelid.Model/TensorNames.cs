namespace Camelid.Model;

/// <summary>
/// What each format calls each LLaMA weight. "{i}" stands for the layer index. One row per format, so
/// adding a format is adding a row, and the model code never sees a file's names.
/// </summary>
public sealed record TensorNames(
    string TokenEmbedding, string OutputNorm, string Output,
    string AttentionNorm, string Wq, string Wk, string Wv, string Wo,
    string FfnNorm, string W1Gate, string W2Down, string W3Up)
{
    /// <summary>llama.cpp's names (GGUF), rows of Q/K in Meta's interleaved-pair order.</summary>
    public static readonly TensorNames Gguf = new(
        "token_embd.weight", "output_norm.weight", "output.weight",
        "blk.{i}.attn_norm.weight", "blk.{i}.attn_q.weight", "blk.{i}.attn_k.weight", "blk.{i}.attn_v.weight", "blk.{i}.attn_output.weight",
        "blk.{i}.ffn_norm.weight", "blk.{i}.ffn_gate.weight", "blk.{i}.ffn_down.weight", "blk.{i}.ffn_up.weight");

    /// <summary>Hugging Face transformers' LlamaForCausalLM names; Q/K rows permuted for rotate-half RoPE.</summary>
    public static readonly TensorNames HuggingFace = new(
        "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
        "model.layers.{i}.input_layernorm.weight", "model.layers.{i}.self_attn.q_proj.weight", "model.layers.{i}.self_attn.k_proj.weight",
        "model.layers.{i}.self_attn.v_proj.weight", "model.layers.{i}.self_attn.o_proj.weight",
        "model.layers.{i}.post_attention_layernorm.weight", "model.layers.{i}.mlp.gate_proj.weight", "model.layers.{i}.mlp.down_proj.weight", "model.layers.{i}.mlp.up_proj.weight");

    /// <summary>Meta's original checkpoint names, used for llama2.c files (same layout as Meta).</summary>
    public static readonly TensorNames Meta = new(
        "tok_embeddings.weight", "norm.weight", "output.weight",
        "layers.{i}.attention_norm.weight", "layers.{i}.attention.wq.weight", "layers.{i}.attention.wk.weight", "layers.{i}.attention.wv.weight", "layers.{i}.attention.wo.weight",
        "layers.{i}.ffn_norm.weight", "layers.{i}.feed_forward.w1.weight", "layers.{i}.feed_forward.w2.weight", "layers.{i}.feed_forward.w3.weight");

    public static string ForLayer(string pattern, int layer) => pattern.Replace("{i}", layer.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
