using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Camelid.Tensors.Quant;

/// <summary>
/// Byte offsets inside one block of each quantized type, as laid out by the structs of ggml-common.h
/// (little-endian, no padding). A row of n elements is n / BlockSize consecutive blocks.
/// <code>
/// Q4_0  18 B  d f16 @0 | qs[16] @2            element j  = low nibble of qs[j], j+16 = high nibble; value (q-8)*d
/// Q4_1  20 B  d @0 | m @2 | qs[16] @4          value q*d + m
/// Q5_0  22 B  d @0 | qh u32 @2 | qs[16] @6     5th bit of element j is bit j of qh; value (q-16)*d
/// Q5_1  24 B  d @0 | m @2 | qh @4 | qs @8      value q*d + m
/// Q8_0  34 B  d @0 | qs int8[32] @2            value q*d
/// Q4_K 144 B  d @0 | dmin @2 | scales[12] @4 | qs[128] @16
///             8 sub-blocks of 32 with 6-bit scale sc and min m (packed, see ScaleMinK4); value d*sc*q - dmin*m;
///             qs[32c + l] holds element 64c + l (low nibble) and 64c + 32 + l (high nibble)
/// Q5_K 176 B  d @0 | dmin @2 | scales[12] @4 | qh[32] @16 | qs[128] @48
///             as Q4_K plus a 5th bit: bit 2c of qh[l] for element 64c + l, bit 2c+1 for 64c + 32 + l
/// Q6_K 210 B  ql[128] @0 | qh[64] @128 | scales int8[16] @192 | d f16 @208
///             16 sub-blocks of 16; value d*scale*(q-32); see Dequantizer.Q6_K for the bit positions
/// Q8_K 292 B  d f32 @0 | qs int8[256] @4 | bsums int16[16] @260 (sum of each 16 quants)
/// </code>
/// </summary>
public static class BlockLayout
{
    public const int Q4_0Bytes = 18, Q4_1Bytes = 20, Q5_0Bytes = 22, Q5_1Bytes = 24, Q8_0Bytes = 34;
    public const int Q4_KBytes = 144, Q5_KBytes = 176, Q6_KBytes = 210, Q8_KBytes = 292;

    public const int KScales = 4, KQs4 = 16, KQh5 = 16, KQs5 = 48;
    public const int Q6Ql = 0, Q6Qh = 128, Q6Scales = 192, Q6D = 208;
    public const int Q8KQs = 4, Q8KBsums = 260;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadHalf(ReadOnlySpan<byte> s, int offset) => (float)BinaryPrimitives.ReadHalfLittleEndian(s[offset..]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteHalf(Span<byte> s, int offset, float value) => BinaryPrimitives.WriteHalfLittleEndian(s[offset..], (Half)value);

    /// <summary>fp32 rounded to fp16 and back, as a quantizer sees its stored scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundToHalf(float value) => (float)(Half)value;

    /// <summary>6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block from its 12 packed bytes
    /// (ggml-quants.c <c>get_scale_min_k4</c>): j &lt; 4 in the low 6 bits of bytes j and j+4; j ≥ 4 in
    /// the nibbles of byte j+4 with their top 2 bits in the high bits of bytes j-4 and j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleMinK4(int j, ReadOnlySpan<byte> scales, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = scales[j] & 63;
            min = scales[j + 4] & 63;
        }
        else
        {
            scale = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
            min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
        }
    }
}
