using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// AVX-512 (or AVX2) dequantization of whole rows for the prefill GEMM's weight tiles, for the types of common
/// LLaMA files (Q4_0, Q8_0, Q4_K, Q6_K). Every value is computed with the same float operations in the
/// same order as <see cref="Dequantizer"/> (no fused multiply-add), so the output is bit-identical to it.
/// The AVX2 path stores each 16 values as two halves of 8, with the same operations.
/// </summary>
internal static unsafe class FastDequantizer
{
    static bool Wide => Avx512F.IsSupported;

    public static bool IsSupported(GgmlType type) => (Wide || Avx2.IsSupported)
        && type is GgmlType.Q4_0 or GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>Dequantizes n values (a multiple of the block size) of <paramref name="row"/>.</summary>
    public static void DequantizeRow(GgmlType type, byte* row, float* y, int n)
    {
        switch (type)
        {
            case GgmlType.Q4_0: Q4_0(row, y, n); break;
            case GgmlType.Q8_0: Q8_0(row, y, n); break;
            case GgmlType.Q4_K: Q4_K(row, y, n); break;
            case GgmlType.Q6_K: Q6_K(row, y, n); break;
            default: throw new NotSupportedException($"no fast dequantizer for {type}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Widen(Vector128<byte> levels) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(levels));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> HighNibbles(Vector128<byte> packed) => Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F);

    static void Q4_0(byte* row, float* y, int n)
    {
        var low = Vector128.Create((byte)0x0F);
        var eight = Vector512.Create(8f);
        for (int b = 0; b < n / 32; b++, y += 32)
        {
            byte* block = row + b * Q4_0Bytes;
            var d = Vector512.Create(HalfPrecision.HalfBitsToSingle(*(ushort*)block));
            var packed = Vector128.Load(block + 2);
            // (q − 8) is an exact small integer in float, so subtracting after the conversion is the same value.
            if (!Wide)
            {
                var (d8, eight8) = (d.GetLower(), eight.GetLower());
                var (l0, l1) = Widen8x2(packed & low);
                var (h0, h1) = Widen8x2(HighNibbles(packed));
                ((l0 - eight8) * d8).Store(y);
                ((l1 - eight8) * d8).Store(y + 8);
                ((h0 - eight8) * d8).Store(y + 16);
                ((h1 - eight8) * d8).Store(y + 24);
                continue;
            }
            ((Widen(packed & low) - eight) * d).Store(y);
            ((Widen(HighNibbles(packed)) - eight) * d).Store(y + 16);
        }
    }

    static void Q8_0(byte* row, float* y, int n)
    {
        for (int b = 0; b < n / 32; b++, y += 32)
        {
            byte* block = row + b * Q8_0Bytes;
            var d = Vector512.Create(HalfPrecision.HalfBitsToSingle(*(ushort*)block));
            if (!Wide)
            {
                var d8 = d.GetLower();
                for (int i = 0; i < 4; i++)
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)block + 2 + 8 * i)) * d8).Store(y + 8 * i);
                continue;
            }
            (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 2))) * d).Store(y);
            (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 18))) * d).Store(y + 16);
        }
    }

    static void Q4_K(byte* row, float* y, int n)
    {
        var low = Vector128.Create((byte)0x0F);
        byte* sc = stackalloc byte[8];
        byte* mn = stackalloc byte[8];
        for (int b = 0; b < n / 256; b++, y += 256)
        {
            byte* block = row + b * Q4_KBytes;
            float d = HalfPrecision.HalfBitsToSingle(*(ushort*)block), dmin = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 2));
            UnpackScales(block + KScales, sc, mn);
            byte* q = block + KQs4;
            for (int c = 0; c < 4; c++) // 64 values per chunk: 32 low nibbles, then 32 high nibbles
            {
                var d1 = Vector512.Create(d * sc[2 * c]); var m1 = Vector512.Create(dmin * mn[2 * c]);
                var d2 = Vector512.Create(d * sc[2 * c + 1]); var m2 = Vector512.Create(dmin * mn[2 * c + 1]);
                for (int half = 0; half < 2; half++)
                {
                    var packed = Vector128.Load(q + 32 * c + 16 * half);
                    if (!Wide)
                    {
                        var (l0, l1) = Widen8x2(packed & low);
                        var (h0, h1) = Widen8x2(HighNibbles(packed));
                        float* yl = y + 64 * c + 16 * half, yh = yl + 32;
                        (d1.GetLower() * l0 - m1.GetLower()).Store(yl);
                        (d1.GetLower() * l1 - m1.GetLower()).Store(yl + 8);
                        (d2.GetLower() * h0 - m2.GetLower()).Store(yh);
                        (d2.GetLower() * h1 - m2.GetLower()).Store(yh + 8);
                        continue;
                    }
                    (d1 * Widen(packed & low) - m1).Store(y + 64 * c + 16 * half);
                    (d2 * Widen(HighNibbles(packed)) - m2).Store(y + 64 * c + 32 + 16 * half);
                }
            }
        }
    }

    /// <summary>ggml's get_scale_min_k4 for all 8 sub-blocks.</summary>
    static void UnpackScales(byte* s, byte* scales, byte* mins)
    {
        for (int j = 0; j < 4; j++)
        {
            scales[j] = (byte)(s[j] & 63);
            mins[j] = (byte)(s[j + 4] & 63);
        }
        for (int j = 4; j < 8; j++)
        {
            scales[j] = (byte)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
            mins[j] = (byte)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
        }
    }

    static void Q6_K(byte* row, float* y, int n)
    {
        var low = Vector128.Create((byte)0x0F);
        var two = Vector128.Create((byte)0x03);
        var offset = Vector512.Create(32);
        for (int b = 0; b < n / 256; b++, y += 256)
        {
            byte* block = row + b * Q6_KBytes;
            float d = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + Q6D));
            for (int h = 0; h < 2; h++)
            {
                byte* ql = block + Q6Ql + 64 * h, qh = block + Q6Qh + 32 * h;
                sbyte* sc = (sbyte*)block + Q6Scales + 8 * h;
                float* yh = y + 128 * h;
                for (int l = 0; l < 32; l += 16) // sub-block l/16 of each quarter
                {
                    int s = l / 16;
                    var a = Vector128.Load(ql + l);
                    var c = Vector128.Load(ql + l + 32);
                    var hi = Vector128.Load(qh + l);
                    Store(yh + l, d * sc[s], (a & low) | Vector128.ShiftLeft(hi & two, 4), offset);
                    Store(yh + l + 32, d * sc[s + 2], (c & low) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hi, 2) & two, 4), offset);
                    Store(yh + l + 64, d * sc[s + 4], HighNibbles(a) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hi, 4) & two, 4), offset);
                    Store(yh + l + 96, d * sc[s + 6], HighNibbles(c) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hi, 6) & two, 4), offset);
                }
            }
        }
    }

    /// <summary>y = (d·sc)·(q − 32), rounded like the scalar code: the product d·sc first, then times the level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* y, float scale, Vector128<byte> levels, Vector512<int> offset)
    {
        if (!Wide)
        {
            var s8 = Vector256.Create(scale);
            (s8 * Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(levels) - Vector256.Create(32))).Store(y);
            (s8 * Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(levels, 8)) - Vector256.Create(32))).Store(y + 8);
            return;
        }
        (Vector512.Create(scale) * Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(levels) - offset)).Store(y);
    }

    /// <summary>AVX2: 16 levels as two vectors of 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> Low, Vector256<float> High) Widen8x2(Vector128<byte> levels) =>
        (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(levels)),
         Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(levels, 8))));
}
