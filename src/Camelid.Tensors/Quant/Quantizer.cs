using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// Converts one fp32 row to any supported type, bit-identical to ggml's reference quantizers
/// (ggml-quants.c <c>quantize_row_*_ref</c>, the path llama-quantize takes without an importance matrix).
/// Every step is done in float32 in ggml's order, with ggml's rounding: truncating casts where ggml casts,
/// <c>roundf</c> (half away from zero) for Q8_0 and <see cref="KQuantizer.NearestInt"/> for the K-quants.
/// Scales are stored as fp16 rounded to nearest even. Block layouts: see <see cref="BlockLayout"/>.
/// </summary>
public static class Quantizer
{
    /// <summary>Quantizes <paramref name="src"/> (a multiple of the block size, finite values) into
    /// <paramref name="dst"/>, which must be exactly <c>GgmlTypes.RowBytes(type, src.Length)</c> bytes.</summary>
    public static void QuantizeRow(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!GgmlTypes.IsSupported(type))
            throw new NotSupportedException($"quantizing to {type} is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K)");
        long need = GgmlTypes.RowBytes(type, src.Length);
        if (dst.Length != need)
            throw new ArgumentException($"a {type} row of {src.Length} elements takes {need} bytes, the destination has {dst.Length}");
        if (GgmlTypes.IsQuantized(type))
        {
            int bad = IndexOfNonFinite(src);
            if (bad >= 0)
                throw new ArgumentException($"cannot quantize to {type}: element {bad} is {src[bad]} (the quantizers need finite values)");
        }
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<float, byte>(src).CopyTo(dst); break;
            case GgmlType.F16: HalfPrecision.SingleToHalf(src, MemoryMarshal.Cast<byte, Half>(dst)); break;
            case GgmlType.BF16: HalfPrecision.SingleToBf16(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.Q4_0: Q4_0(src, dst); break;
            case GgmlType.Q4_1: Q4_1(src, dst); break;
            case GgmlType.Q5_0: Q5_0(src, dst); break;
            case GgmlType.Q5_1: Q5_1(src, dst); break;
            case GgmlType.Q8_0: Q8_0(src, dst); break;
            case GgmlType.Q4_K: KQuantizer.Q4_K(src, dst); break;
            case GgmlType.Q5_K: KQuantizer.Q5_K(src, dst); break;
            case GgmlType.Q6_K: KQuantizer.Q6_K(src, dst); break;
            case GgmlType.Q8_K: KQuantizer.Q8_K(src, dst); break;
        }
    }

    static int IndexOfNonFinite(ReadOnlySpan<float> x)
    {
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i]))
                return i;
        return -1;
    }

    /// <summary>The value of largest magnitude (the first one on ties), with its sign.</summary>
    static float SignedAbsMax(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        return max;
    }

    static void MinMax(ReadOnlySpan<float> x, out float min, out float max)
    {
        min = float.MaxValue;
        max = -float.MaxValue;
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
    }

    // Symmetric 4-bit: the extreme value maps to -8, so d carries its sign.
    static void Q4_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            var blk = dst.Slice(b * Q4_0Bytes, Q4_0Bytes);
            float d = SignedAbsMax(x) / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(blk, 0, d);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)(x[j] * id + 8.5f));
                int q1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
                blk[2 + j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    static void Q4_1(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            var blk = dst.Slice(b * Q4_1Bytes, Q4_1Bytes);
            MinMax(x, out float min, out float max);
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(blk, 0, d);
            WriteHalf(blk, 2, min);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
                int q1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
                blk[4 + j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    static void Q5_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            var blk = dst.Slice(b * Q5_0Bytes, Q5_0Bytes);
            float d = SignedAbsMax(x) / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(blk, 0, d);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(31, (int)(x[j] * id + 16.5f));
                int q1 = Math.Min(31, (int)(x[j + 16] * id + 16.5f));
                blk[6 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
                qh |= (uint)((q0 >> 4) & 1) << j;
                qh |= (uint)((q1 >> 4) & 1) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(blk[2..], qh);
        }
    }

    static void Q5_1(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            var blk = dst.Slice(b * Q5_1Bytes, Q5_1Bytes);
            MinMax(x, out float min, out float max);
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(blk, 0, d);
            WriteHalf(blk, 2, min);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                // ggml casts to uint8_t without a clamp here; the values cannot exceed 31.
                int q0 = (byte)(int)((x[j] - min) * id + 0.5f);
                int q1 = (byte)(int)((x[j + 16] - min) * id + 0.5f);
                blk[8 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
                qh |= (uint)((q0 >> 4) & 1) << j;
                qh |= (uint)((q1 >> 4) & 1) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(blk[4..], qh);
        }
    }

    static void Q8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            var blk = dst.Slice(b * Q8_0Bytes, Q8_0Bytes);
            float amax = 0;
            foreach (float v in x)
                amax = amax > MathF.Abs(v) ? amax : MathF.Abs(v);
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(blk, 0, d);
            for (int j = 0; j < 32; j++)
                blk[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }
}
