namespace Camelid.Tensors.Quant;

/// <summary>Tensor element types, numbered as in ggml (ggml.h <c>enum ggml_type</c>) so GGUF files map one to one.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
}

/// <summary>Block geometry of each type: a row of n elements is n / BlockSize blocks of BlockBytes bytes.</summary>
public static class GgmlTypes
{
    /// <summary>Elements per super-block of the K-quants.</summary>
    public const int QK_K = 256;

    /// <summary>Elements per block of the legacy quants (Q4_0 .. Q8_1).</summary>
    public const int QK = 32;

    public static bool IsSupported(GgmlType t) => t is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0
        or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K;

    public static bool IsQuantized(GgmlType t) => t is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.F64 or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64);

    /// <summary>Elements per block (1 for plain types).</summary>
    public static int BlockSize(GgmlType t) => t switch
    {
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1 => QK,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => QK_K,
        _ => 1,
    };

    /// <summary>Bytes per block; the layouts are those of ggml-common.h.</summary>
    public static int BlockBytes(GgmlType t) => t switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 => 2,
        GgmlType.BF16 => 2,
        GgmlType.F64 => 8,
        GgmlType.I8 => 1,
        GgmlType.I16 => 2,
        GgmlType.I32 => 4,
        GgmlType.I64 => 8,
        GgmlType.Q4_0 => 2 + 16,            // d (f16), 32 x 4-bit
        GgmlType.Q4_1 => 2 + 2 + 16,        // d, m (f16), 32 x 4-bit
        GgmlType.Q5_0 => 2 + 4 + 16,        // d, qh (32 high bits), 32 x low 4 bits
        GgmlType.Q5_1 => 2 + 2 + 4 + 16,    // d, m, qh, qs
        GgmlType.Q8_0 => 2 + 32,            // d, 32 x int8
        GgmlType.Q8_1 => 4 + 32,            // d, s (f16 each), 32 x int8
        GgmlType.Q2_K => 16 + 64 + 2 + 2,
        GgmlType.Q3_K => 32 + 64 + 12 + 2,
        GgmlType.Q4_K => 2 + 2 + 12 + 128,  // d, dmin, 12 bytes of 6-bit scales/mins, 256 x 4-bit
        GgmlType.Q5_K => 2 + 2 + 12 + 32 + 128, // d, dmin, scales, qh, qs
        GgmlType.Q6_K => 128 + 64 + 16 + 2, // ql, qh, int8 scales, d
        GgmlType.Q8_K => 4 + 256 + 32,      // d (f32), 256 x int8, 16 x int16 block sums
        _ => throw new NotSupportedException($"tensor type {t} ({(uint)t}) is not supported"),
    };

    /// <summary>Bytes taken by a row of <paramref name="n"/> elements; n must be a multiple of the block size.</summary>
    public static long RowBytes(GgmlType t, long n)
    {
        int bs = BlockSize(t);
        if (n % bs != 0)
            throw new ArgumentException($"a {t} row needs a multiple of {bs} elements, got {n}");
        return n / bs * BlockBytes(t);
    }

    public static bool IsDefined(uint value) => Enum.IsDefined(typeof(GgmlType), value);

    public static string Name(GgmlType t) => t.ToString();

    /// <summary>Parses names such as "q4_0", "Q4_K", "f16" (case-insensitive).</summary>
    public static bool TryParse(string name, out GgmlType type) => Enum.TryParse(name, ignoreCase: true, out type) && Enum.IsDefined(type);
}
