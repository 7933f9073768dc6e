// Which type each tensor gets for a file type: llama.cpp's rules (src/llama-quant.cpp: tensor_allows_quantization,
// llama_tensor_get_type_impl, tensor_type_fallback), for dense LLaMA models without an importance matrix, so the
// tensor types (and so the file size) of our output are those of llama-quantize:
// - Only tensors of 2+ dimensions (ggml_n_dims, which ignores trailing 1s) whose name ends in "weight" and does
//   not contain "_norm.weight" are converted; the others (norms, rope_freqs) keep their stored type.
// - F32 / F16 / BF16 files: every converted tensor gets that type, no further rule.
// - Quantized files start from the default type (q4_k_m -> Q4_K, ...), then:
//   output.weight (and token_embd.weight when there is no output.weight: tied embeddings) -> Q8_0 when its row
//     length is not a multiple of the default type's block, else Q6_K unless the file type is q8_0;
//   attn_v.weight: q4_k_m / q5_k_m -> Q6_K in the layers use_more_bits picks, q4_k_s -> Q5_K in layers 0..3;
//     on a LLaMA-2-70B shape (80 layers, grouped-query attention) a Q4_K result becomes Q5_K;
//   ffn_down: q4_k_m / q5_k_m -> Q6_K in the layers use_more_bits picks, q4_k_s -> Q5_K in the first n/8 layers;
//   token_embd.weight (untied) and everything else keep the default type.
//   use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2: the first and last eighth and every third
//   layer between, so half the layers. llama.cpp counts attn_v / ffn_down tensors in its (layer, name) order,
//   which for a dense model is the layer index used here.
// - Fallback when a row length is not a multiple of the chosen type's block (K-quants need 256): Q4_K -> Q5_0,
//   Q5_K -> Q5_1, Q6_K -> Q8_0, and F16 when even that block (32) does not divide the row. For Q4_0 / Q4_1 /
//   Q5_0 / Q5_1 / Q8_0 rows that are not a multiple of 32 llama.cpp stops with "no tensor type fallback is
//   defined"; we use F16 there, the end of its own fallback chain, so that e.g. stories260K (ffn rows of 172)
//   can still be converted.
// Not ported (no such tensors or types here): Falcon, mixture-of-experts and fused-QKV rules, the IQ/Q2_K/Q3_K
// mixes, importance-matrix rules, --pure and per-tensor overrides.
using System.Globalization;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

/// <summary>The tensor type rules of one conversion: a file type applied to one model's tensor list.</summary>
public sealed class TensorTypeRules
{
    readonly int _attentionVCount;
    readonly int _layers;
    readonly bool _tiedEmbeddings;
    readonly bool _isLlama70B;

    public LlamaFileType FileType { get; }

    /// <param name="tensorNames">All tensors of the model (which ones exist decides tied embeddings and attn_v count).</param>
    public TensorTypeRules(LlamaFileType fileType, IEnumerable<string> tensorNames, LlamaConfig config)
    {
        LlamaFileTypes.DefaultTensorType(fileType); // rejects values outside the enum
        FileType = fileType;
        var names = tensorNames.ToList();
        _attentionVCount = names.Count(n => n.Contains("attn_v.weight", StringComparison.Ordinal));
        _tiedEmbeddings = !names.Contains(TensorNames.Gguf.Output);
        _layers = config.Layers;
        _isLlama70B = config.Layers == 80 && config.Heads != config.KvHeads; // llama.cpp's LLM_TYPE_70B for LLaMA
    }

    /// <summary>llama.cpp's <c>tensor_allows_quantization</c> for the tensors a LLaMA file has.</summary>
    public static bool AllowsConversion(string name, long[] shapeOutermostFirst) =>
        GgmlDims(shapeOutermostFirst) >= 2
        && name.EndsWith("weight", StringComparison.Ordinal)
        && !name.Contains("_norm.weight", StringComparison.Ordinal);

    /// <summary>The type <paramref name="name"/> is written as; <paramref name="storedType"/> when it is not converted.</summary>
    public GgmlType TypeFor(string name, long[] shapeOutermostFirst, GgmlType storedType) =>
        TypeFor(name, shapeOutermostFirst, storedType, out _);

    /// <param name="fellBack">Whether the rules' type did not fit the row length and a fallback was taken.</param>
    public GgmlType TypeFor(string name, long[] shapeOutermostFirst, GgmlType storedType, out bool fellBack)
    {
        fellBack = false;
        if (!AllowsConversion(name, shapeOutermostFirst))
            return storedType;
        var type = LlamaFileTypes.DefaultTensorType(FileType);
        if (!GgmlTypes.IsQuantized(type))
            return type;
        long rowLength = shapeOutermostFirst[^1];
        type = MixtureType(name, rowLength, type);
        if (rowLength % GgmlTypes.BlockSize(type) == 0)
            return type;
        fellBack = true;
        return Fallback(type, rowLength);
    }

    GgmlType MixtureType(string name, long rowLength, GgmlType type)
    {
        bool isOutput = name == TensorNames.Gguf.Output || (_tiedEmbeddings && name == TensorNames.Gguf.TokenEmbedding);
        if (isOutput)
        {
            if (rowLength % GgmlTypes.BlockSize(type) != 0)
                return GgmlType.Q8_0;
            return type == GgmlType.Q8_0 ? type : GgmlType.Q6_K;
        }
        if (name.Contains("attn_v.weight", StringComparison.Ordinal))
        {
            int i = LayerOf(name);
            if (FileType is LlamaFileType.MostlyQ4_K_M or LlamaFileType.MostlyQ5_K_M && UseMoreBits(i, _attentionVCount))
                type = GgmlType.Q6_K;
            else if (FileType == LlamaFileType.MostlyQ4_K_S && i < 4)
                type = GgmlType.Q5_K;
            if (_isLlama70B && type == GgmlType.Q4_K)
                type = GgmlType.Q5_K;
            return type;
        }
        if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            int i = LayerOf(name);
            if (FileType is LlamaFileType.MostlyQ4_K_M or LlamaFileType.MostlyQ5_K_M && UseMoreBits(i, _layers))
                return GgmlType.Q6_K;
            if (FileType == LlamaFileType.MostlyQ4_K_S && i < _layers / 8)
                return GgmlType.Q5_K;
        }
        return type;
    }

    static GgmlType Fallback(GgmlType type, long rowLength)
    {
        var fallback = type switch
        {
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return rowLength % GgmlTypes.BlockSize(fallback) == 0 ? fallback : GgmlType.F16;
    }

    public static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    /// <summary>The N of "blk.N.", or -1 (as llama.cpp's <c>sscanf(name, "blk.%d.", &amp;layer)</c> leaves it).</summary>
    public static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
            return -1;
        int end = 4;
        while (end < name.Length && char.IsAsciiDigit(name[end]))
            end++;
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int layer) ? layer : -1;
    }

    /// <summary>
    /// llama.cpp's <c>weight_name_comparer</c>: by layer (tensors outside the blocks, layer -1, first), then by name.
    /// llama-quantize writes its output in this order, and so do we.
    /// </summary>
    public static int CompareForFileOrder(string a, string b)
    {
        int byLayer = LayerOf(a).CompareTo(LayerOf(b));
        return byLayer != 0 ? byLayer : string.CompareOrdinal(a, b);
    }

    /// <summary>ggml_n_dims: the number of dimensions up to the last one that is not 1 (at least 1).</summary>
    static int GgmlDims(long[] shapeOutermostFirst)
    {
        for (int d = 0; d < shapeOutermostFirst.Length; d++) // outermost first = ggml's highest dimension first
            if (shapeOutermostFirst[d] > 1)
                return shapeOutermostFirst.Length - d;
        return 1;
    }
}
