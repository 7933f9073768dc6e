using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// Converts one row of any supported type to fp32 (ggml-quants.c <c>dequantize_row_*</c>, with the same
/// order of float operations so results are bit-identical to ggml). Block layouts: see <see cref="BlockLayout"/>.
/// Used for embedding lookups and as the test oracle of the quantized dot products, so it stays scalar.
/// </summary>
public static class Dequantizer
{
    /// <summary>Decodes <c>dst.Length</c> elements (a multiple of the type's block size) from <paramref name="src"/>.</summary>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!GgmlTypes.IsSupported(type))
            throw new NotSupportedException($"dequantizing {type} is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K)");
        long need = GgmlTypes.RowBytes(type, dst.Length);
        if (src.Length < need)
            throw new ArgumentException($"a {type} row of {dst.Length} elements needs {need} bytes, got {src.Length}");
        src = src[..(int)need];
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case GgmlType.F16: HalfPrecision.HalfToSingle(MemoryMarshal.Cast<byte, Half>(src), dst); break;
            case GgmlType.BF16: HalfPrecision.Bf16ToSingle(MemoryMarshal.Cast<byte, ushort>(src), dst); break;
            case GgmlType.Q4_0: Q4_0(src, dst); break;
            case GgmlType.Q4_1: Q4_1(src, dst); break;
            case GgmlType.Q5_0: Q5_0(src, dst); break;
            case GgmlType.Q5_1: Q5_1(src, dst); break;
            case GgmlType.Q8_0: Q8_0(src, dst); break;
            case GgmlType.Q4_K: Q4_K(src, dst); break;
            case GgmlType.Q5_K: Q5_K(src, dst); break;
            case GgmlType.Q6_K: Q6_K(src, dst); break;
            case GgmlType.Q8_K: Q8_K(src, dst); break;
        }
    }

    static void Q4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 32; b++)
        {
            var blk = src.Slice(b * Q4_0Bytes, Q4_0Bytes);
            var y = dst.Slice(b * 32, 32);
            float d = ReadHalf(blk, 0);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((blk[2 + j] & 0xF) - 8) * d;
                y[j + 16] = ((blk[2 + j] >> 4) - 8) * d;
            }
        }
    }

    static void Q4_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 32; b++)
        {
            var blk = src.Slice(b * Q4_1Bytes, Q4_1Bytes);
            var y = dst.Slice(b * 32, 32);
            float d = ReadHalf(blk, 0), m = ReadHalf(blk, 2);
            for (int j = 0; j < 16; j++)
            {
                y[j] = (blk[4 + j] & 0xF) * d + m;
                y[j + 16] = (blk[4 + j] >> 4) * d + m;
            }
        }
    }

    static void Q5_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 32; b++)
        {
            var blk = src.Slice(b * Q5_0Bytes, Q5_0Bytes);
            var y = dst.Slice(b * 32, 32);
            float d = ReadHalf(blk, 0);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(blk[2..]);
            for (int j = 0; j < 16; j++)
            {
                int hi0 = (int)((qh >> j) & 1) << 4, hi1 = (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = (((blk[6 + j] & 0xF) | hi0) - 16) * d;
                y[j + 16] = (((blk[6 + j] >> 4) | hi1) - 16) * d;
            }
        }
    }

    static void Q5_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 32; b++)
        {
            var blk = src.Slice(b * Q5_1Bytes, Q5_1Bytes);
            var y = dst.Slice(b * 32, 32);
            float d = ReadHalf(blk, 0), m = ReadHalf(blk, 2);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(blk[4..]);
            for (int j = 0; j < 16; j++)
            {
                int hi0 = (int)((qh >> j) & 1) << 4, hi1 = (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = ((blk[8 + j] & 0xF) | hi0) * d + m;
                y[j + 16] = ((blk[8 + j] >> 4) | hi1) * d + m;
            }
        }
    }

    static void Q8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 32; b++)
        {
            var blk = src.Slice(b * Q8_0Bytes, Q8_0Bytes);
            float d = ReadHalf(blk, 0);
            for (int j = 0; j < 32; j++)
                dst[b * 32 + j] = (sbyte)blk[2 + j] * d;
        }
    }

    static void Q4_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 256; b++)
        {
            var blk = src.Slice(b * Q4_KBytes, Q4_KBytes);
            var y = dst.Slice(b * 256, 256);
            float d = ReadHalf(blk, 0), dmin = ReadHalf(blk, 2);
            var scales = blk.Slice(KScales, 12);
            var q = blk.Slice(KQs4, 128);
            for (int c = 0; c < 4; c++) // 64 elements per chunk: 32 low nibbles then 32 high nibbles
            {
                ScaleMinK4(2 * c, scales, out int sc1, out int m1);
                ScaleMinK4(2 * c + 1, scales, out int sc2, out int m2);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                for (int l = 0; l < 32; l++)
                {
                    y[64 * c + l] = d1 * (q[32 * c + l] & 0xF) - min1;
                    y[64 * c + 32 + l] = d2 * (q[32 * c + l] >> 4) - min2;
                }
            }
        }
    }

    static void Q5_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 256; b++)
        {
            var blk = src.Slice(b * Q5_KBytes, Q5_KBytes);
            var y = dst.Slice(b * 256, 256);
            float d = ReadHalf(blk, 0), dmin = ReadHalf(blk, 2);
            var scales = blk.Slice(KScales, 12);
            var qh = blk.Slice(KQh5, 32);
            var ql = blk.Slice(KQs5, 128);
            for (int c = 0; c < 4; c++)
            {
                ScaleMinK4(2 * c, scales, out int sc1, out int m1);
                ScaleMinK4(2 * c + 1, scales, out int sc2, out int m2);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                int u1 = 1 << (2 * c), u2 = 2 << (2 * c);
                for (int l = 0; l < 32; l++)
                {
                    y[64 * c + l] = d1 * ((ql[32 * c + l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - min1;
                    y[64 * c + 32 + l] = d2 * ((ql[32 * c + l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - min2;
                }
            }
        }
    }

    /// <summary>Q6_K: per half (128 elements) h, for l &lt; 32: ql[64h+l] holds the low 4 bits of elements
    /// l (low nibble) and l+64 (high nibble), ql[64h+32+l] those of l+32 and l+96; qh[32h+l] holds the
    /// top 2 bits of elements l, l+32, l+64, l+96 at bit 0, 2, 4, 6. Scale index = element / 16.</summary>
    static void Q6_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 256; b++)
        {
            var blk = src.Slice(b * Q6_KBytes, Q6_KBytes);
            var y = dst.Slice(b * 256, 256);
            float d = ReadHalf(blk, Q6D);
            for (int h = 0; h < 2; h++)
            {
                var ql = blk.Slice(Q6Ql + 64 * h, 64);
                var qh = blk.Slice(Q6Qh + 32 * h, 32);
                var sc = MemoryMarshal.Cast<byte, sbyte>(blk.Slice(Q6Scales + 8 * h, 8));
                var yh = y.Slice(128 * h, 128);
                for (int l = 0; l < 32; l++)
                {
                    int iS = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yh[l] = d * sc[iS] * q1;
                    yh[l + 32] = d * sc[iS + 2] * q2;
                    yh[l + 64] = d * sc[iS + 4] * q3;
                    yh[l + 96] = d * sc[iS + 6] * q4;
                }
            }
        }
    }

    static void Q8_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / 256; b++)
        {
            var blk = src.Slice(b * Q8_KBytes, Q8_KBytes);
            float d = BinaryPrimitives.ReadSingleLittleEndian(blk);
            for (int j = 0; j < 256; j++)
                dst[b * 256 + j] = d * (sbyte)blk[Q8KQs + j];
        }
    }
}
