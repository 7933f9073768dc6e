namespace Camelid.Model.Adapters;

/// <summary>
/// The matrices LoRA can target: the seven of each LLaMA block, and the output head (PEFT's lm_head, one for the model,
/// whose adapter has layer −1). Adapting the head lets a frozen model learn to emit tokens its head never learned to
/// tell apart, such as an end-of-sequence token it never saw in pretraining.
/// </summary>
public enum BlockMatrix { Q, K, V, O, Gate, Up, Down, Head }

public static class BlockMatrices
{
    /// <summary>The seven matrices of a block ("all" targets, as PEFT's all-linear: the head is not included).</summary>
    public static IReadOnlyList<BlockMatrix> All { get; } = Enum.GetValues<BlockMatrix>().Where(m => m != BlockMatrix.Head).ToArray();

    /// <summary>FastChat's and PEFT's usual LoRA targets for LLaMA.</summary>
    public static IReadOnlyList<BlockMatrix> DefaultTargets { get; } = [BlockMatrix.Q, BlockMatrix.V];

    /// <summary>The module name in Hugging Face's LlamaForCausalLM (PEFT's target_modules): q_proj … down_proj.</summary>
    public static string PeftModule(this BlockMatrix m) => m switch
    {
        BlockMatrix.Q => "q_proj",
        BlockMatrix.K => "k_proj",
        BlockMatrix.V => "v_proj",
        BlockMatrix.O => "o_proj",
        BlockMatrix.Gate => "gate_proj",
        BlockMatrix.Up => "up_proj",
        BlockMatrix.Down => "down_proj",
        BlockMatrix.Head => "lm_head",
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    /// <summary>The module's path inside a decoder layer (self_attn.q_proj, mlp.gate_proj, …), or lm_head.</summary>
    public static string PeftPath(this BlockMatrix m) => m switch
    {
        BlockMatrix.Head => "lm_head",
        <= BlockMatrix.O => "self_attn." + m.PeftModule(),
        _ => "mlp." + m.PeftModule(),
    };

    /// <summary>The module's full name in LlamaForCausalLM: model.layers.{i}.self_attn.q_proj, …, or lm_head.</summary>
    public static string PeftModulePath(this BlockMatrix m, int layer) =>
        m == BlockMatrix.Head ? "lm_head" : $"model.layers.{layer}.{m.PeftPath()}";

    /// <summary>Camelid's short name, used by --lora-targets: q, k, v, o, gate, up, down.</summary>
    public static string ShortName(this BlockMatrix m) => m.ToString().ToLowerInvariant();

    /// <summary>The parameter name of the matrix in a model ("blk.3.attn_q", "output"), for messages and training parameters.</summary>
    public static string ParameterName(this BlockMatrix m, int layer) =>
        TensorNames.ForLayer(m.GgufName(), layer).Replace(".weight", "", StringComparison.Ordinal);

    /// <summary>The GGUF name pattern of the matrix ("blk.{i}.attn_q.weight").</summary>
    public static string GgufName(this BlockMatrix m) => m switch
    {
        BlockMatrix.Q => TensorNames.Gguf.Wq,
        BlockMatrix.K => TensorNames.Gguf.Wk,
        BlockMatrix.V => TensorNames.Gguf.Wv,
        BlockMatrix.O => TensorNames.Gguf.Wo,
        BlockMatrix.Gate => TensorNames.Gguf.W1Gate,
        BlockMatrix.Up => TensorNames.Gguf.W3Up,
        BlockMatrix.Down => TensorNames.Gguf.W2Down,
        BlockMatrix.Head => TensorNames.Gguf.Output,
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    /// <summary>The matrix of a loaded layer (not the head, which belongs to the model).</summary>
    public static Linear Of(this LayerWeights layer, BlockMatrix m) => m switch
    {
        BlockMatrix.Q => layer.Wq,
        BlockMatrix.K => layer.Wk,
        BlockMatrix.V => layer.Wv,
        BlockMatrix.O => layer.Wo,
        BlockMatrix.Gate => layer.W1,
        BlockMatrix.Up => layer.W3,
        BlockMatrix.Down => layer.W2,
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, "the head is not a layer's matrix"),
    };

    /// <summary>(out, in) of the matrix in a model of this configuration.</summary>
    public static (int Out, int In) Shape(this BlockMatrix m, LlamaConfig c) => m switch
    {
        BlockMatrix.Q or BlockMatrix.O => (c.Dim, c.Dim),
        BlockMatrix.K or BlockMatrix.V => (c.KvDim, c.Dim),
        BlockMatrix.Gate or BlockMatrix.Up => (c.HiddenDim, c.Dim),
        BlockMatrix.Down => (c.Dim, c.HiddenDim),
        BlockMatrix.Head => (c.VocabSize, c.Dim),
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    /// <summary>
    /// A comma-separated list of targets: Camelid's short names (q,k,v,o,gate,up,down,head), PEFT's module names
    /// (q_proj, …, lm_head) or "all" (the seven block matrices), which may be combined with head ("all,head").
    /// </summary>
    public static IReadOnlyList<BlockMatrix> ParseList(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
            throw new FormatException("no LoRA targets given; use any of q,k,v,o,gate,up,down or all");
        var set = new SortedSet<BlockMatrix>();
        foreach (var part in parts)
            if (part.Equals("all", StringComparison.OrdinalIgnoreCase))
                set.UnionWith(All);
            else
                set.Add(Parse(part) ?? throw new FormatException($"unknown LoRA target '{part}'; use any of q,k,v,o,gate,up,down,head (or q_proj, …, lm_head) or all"));
        return set.ToList();
    }

    /// <summary>A short or PEFT module name; null when it names none of the targets.</summary>
    public static BlockMatrix? Parse(string name)
    {
        foreach (var m in Enum.GetValues<BlockMatrix>())
            if (name.Equals(m.ShortName(), StringComparison.OrdinalIgnoreCase) || name.Equals(m.PeftModule(), StringComparison.OrdinalIgnoreCase))
                return m;
        return null;
    }
}
