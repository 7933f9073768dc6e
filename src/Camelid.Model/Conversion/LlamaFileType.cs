using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

/// <summary>
/// What a whole file is quantized to, numbered as llama.cpp's <c>enum llama_ftype</c> (llama.h), the value GGUF
/// stores in <c>general.file_type</c>. Only the types whose tensor types Camelid can produce are listed.
/// </summary>
public enum LlamaFileType : uint
{
    AllF32 = 0,
    MostlyF16 = 1,
    MostlyQ4_0 = 2,
    MostlyQ4_1 = 3,
    MostlyQ8_0 = 7,
    MostlyQ5_0 = 8,
    MostlyQ5_1 = 9,
    MostlyQ4_K_S = 14,
    MostlyQ4_K_M = 15,
    MostlyQ5_K_S = 16,
    MostlyQ5_K_M = 17,
    MostlyQ6_K = 18,
    MostlyBF16 = 32,
}

public static class LlamaFileTypes
{
    /// <summary>The names `--type` takes, as llama-quantize spells them (lower case); q4_k and q5_k are its
    /// aliases of q4_k_m and q5_k_m.</summary>
    public static IReadOnlyDictionary<string, LlamaFileType> Names { get; } = new Dictionary<string, LlamaFileType>(StringComparer.OrdinalIgnoreCase)
    {
        ["f32"] = LlamaFileType.AllF32,
        ["f16"] = LlamaFileType.MostlyF16,
        ["bf16"] = LlamaFileType.MostlyBF16,
        ["q8_0"] = LlamaFileType.MostlyQ8_0,
        ["q4_0"] = LlamaFileType.MostlyQ4_0,
        ["q4_1"] = LlamaFileType.MostlyQ4_1,
        ["q5_0"] = LlamaFileType.MostlyQ5_0,
        ["q5_1"] = LlamaFileType.MostlyQ5_1,
        ["q4_k"] = LlamaFileType.MostlyQ4_K_M,
        ["q4_k_s"] = LlamaFileType.MostlyQ4_K_S,
        ["q4_k_m"] = LlamaFileType.MostlyQ4_K_M,
        ["q5_k"] = LlamaFileType.MostlyQ5_K_M,
        ["q5_k_s"] = LlamaFileType.MostlyQ5_K_S,
        ["q5_k_m"] = LlamaFileType.MostlyQ5_K_M,
        ["q6_k"] = LlamaFileType.MostlyQ6_K,
    };

    public static LlamaFileType Parse(string name) =>
        Names.TryGetValue(name ?? "", out var type) ? type
            : throw new ArgumentException($"unknown type '{name}': use one of {string.Join(", ", Names.Keys)}");

    /// <summary>The canonical name: q4_k_m rather than its alias q4_k.</summary>
    public static string Name(LlamaFileType type) => type switch
    {
        LlamaFileType.MostlyQ4_K_M => "q4_k_m",
        LlamaFileType.MostlyQ5_K_M => "q5_k_m",
        _ => Names.First(kv => kv.Value == type).Key,
    };

    /// <summary>llama.cpp's <c>llama_ftype_get_default_type</c>: the type of the tensors no rule singles out.</summary>
    public static GgmlType DefaultTensorType(LlamaFileType type) => type switch
    {
        LlamaFileType.AllF32 => GgmlType.F32,
        LlamaFileType.MostlyF16 => GgmlType.F16,
        LlamaFileType.MostlyBF16 => GgmlType.BF16,
        LlamaFileType.MostlyQ4_0 => GgmlType.Q4_0,
        LlamaFileType.MostlyQ4_1 => GgmlType.Q4_1,
        LlamaFileType.MostlyQ5_0 => GgmlType.Q5_0,
        LlamaFileType.MostlyQ5_1 => GgmlType.Q5_1,
        LlamaFileType.MostlyQ8_0 => GgmlType.Q8_0,
        LlamaFileType.MostlyQ4_K_S or LlamaFileType.MostlyQ4_K_M => GgmlType.Q4_K,
        LlamaFileType.MostlyQ5_K_S or LlamaFileType.MostlyQ5_K_M => GgmlType.Q5_K,
        LlamaFileType.MostlyQ6_K => GgmlType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a supported file type"),
    };
}
