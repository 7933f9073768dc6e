using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Camelid.Tensors.Kernels;

/// <summary>fp16 and bf16 to/from fp32. bf16 is the top half of an fp32 (ggml-impl.h
/// <c>ggml_compute_fp32_to_bf16</c>: round to nearest even, NaN kept and made quiet).</summary>
public static class HalfPrecision
{
    /// <summary>
    /// fp32 value of every fp16 bit pattern (256 KiB, pinned): one load per conversion, for kernels that turn a
    /// block scale into fp32 per 32 weights on CPUs without AVX-512 (ggml's ggml_table_f32_f16 likewise).
    /// </summary>
    public static unsafe float* SingleOfHalfBits => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s_table));

    static readonly float[] s_table = BuildTable(); // on the pinned heap, so the pointer above stays valid

    static float[] BuildTable()
    {
        var table = GC.AllocateUninitializedArray<float>(1 << 16, pinned: true);
        for (int h = 0; h < table.Length; h++)
            table[h] = HalfBitsToSingle((ushort)h);
        return table;
    }

    /// <summary>fp16 bits to fp32, exact for every input (subnormals, ±inf, NaN), without branches on the
    /// common path (M. Dukhan's FP16 library, <c>fp16_ieee_to_fp32_value</c>): normal numbers are rebased by
    /// an exponent offset and a multiply; subnormals come out of a magic-number subtraction.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static float HalfBitsToSingle(ushort h)
    {
        uint w = (uint)h << 16;
        uint sign = w & 0x80000000u;
        uint twoW = w + w;
        float normalized = BitConverter.UInt32BitsToSingle((twoW >> 4) + (0xE0u << 23)) * 1.92592994e-34f; // 2^-112
        float denormalized = BitConverter.UInt32BitsToSingle((twoW >> 17) | (126u << 23)) - 0.5f;
        uint bits = twoW < (1u << 27) ? BitConverter.SingleToUInt32Bits(denormalized) : BitConverter.SingleToUInt32Bits(normalized);
        return BitConverter.UInt32BitsToSingle(sign | bits);
    }

    public static float Bf16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort SingleToBf16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000)
            return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>Widens bf16 to fp32: a 16-bit left shift of each value.</summary>
    public static void Bf16ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"destination holds {dst.Length} values, source has {src.Length}");
        var dstBits = MemoryMarshal.Cast<float, uint>(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= src.Length; i += 32)
            {
                var v = Vector512.Create(src.Slice(i, 32));
                (var lo, var hi) = Vector512.Widen(v);
                (lo << 16).CopyTo(dstBits.Slice(i, 16));
                (hi << 16).CopyTo(dstBits.Slice(i + 16, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= src.Length; i += 16)
            {
                var v = Vector256.Create(src.Slice(i, 16));
                (var lo, var hi) = Vector256.Widen(v);
                (lo << 16).CopyTo(dstBits.Slice(i, 8));
                (hi << 16).CopyTo(dstBits.Slice(i + 8, 8));
            }
        }
        for (; i < src.Length; i++)
            dstBits[i] = (uint)src[i] << 16;
    }

    public static void SingleToBf16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"destination holds {dst.Length} values, source has {src.Length}");
        for (int i = 0; i < src.Length; i++)
            dst[i] = SingleToBf16(src[i]);
    }

    /// <summary>fp16 to fp32 (exact).</summary>
    public static void HalfToSingle(ReadOnlySpan<Half> src, Span<float> dst) => TensorPrimitives.ConvertToSingle(src, dst);

    /// <summary>fp32 to fp16, round to nearest even (as ggml's F16C <c>_cvtss_sh(x, 0)</c>).</summary>
    public static void SingleToHalf(ReadOnlySpan<float> src, Span<Half> dst) => TensorPrimitives.ConvertToHalf(src, dst);
}
