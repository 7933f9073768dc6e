using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// Spreads one quantized weight row into the flat form the integer dot product reads: every weight is
/// <c>w = laneScale · u + bias</c> with
/// <list type="bullet">
/// <item><c>u</c> (cols) one byte per weight: the unsigned level (0..63), or for Q8_0 the signed level;</item>
/// <item><c>laneScales</c> (cols/4) the scale of the group holding weights 4k..4k+3;</item>
/// <item><c>bias</c> (cols/G) one additive offset per group of G = <see cref="QuantDot.WeightGroupSize"/>.</item>
/// </list>
/// Per type: Q4_0 u = q, bias -8d; Q5_0 bias -16d; Q4_1/Q5_1 bias m; Q8_0 signed u, bias 0;
/// Q4_K/Q5_K scale d·sc, bias -dmin·m per 32; Q6_K scale d·sc, bias -32·d·sc per 16.
/// Unsigned levels keep the u8×s8 multiply-add instructions free of saturation (|u·a| ≤ 63·127).
/// Bit positions: see <see cref="BlockLayout"/>; the decoding mirrors <see cref="Dequantizer"/>.
/// </summary>
public static unsafe class WeightUnpacker
{
    /// <summary>Checked entry point: unpacks u.Length weights of <paramref name="row"/>.</summary>
    public static void UnpackRow(GgmlType type, ReadOnlySpan<byte> row, Span<byte> u, Span<float> laneScales, Span<float> bias)
    {
        if (!QuantDot.HasIntegerDot(type))
            throw new NotSupportedException($"{type} has no integer dot product; use the fp32 path");
        int n = u.Length;
        if (row.Length < GgmlTypes.RowBytes(type, n) || laneScales.Length < n / 4 || bias.Length < n / QuantDot.WeightGroupSize(type))
            throw new ArgumentException($"buffers too small to unpack a {type} row of {n} elements");
        fixed (byte* r = row) fixed (byte* up = u) fixed (float* lp = laneScales) fixed (float* bp = bias)
            Unpack(type, r, n, up, lp, bp);
    }

    /// <summary>Unchecked: the caller guarantees the buffer sizes.</summary>
    internal static void Unpack(GgmlType type, byte* row, int n, byte* u, float* lanes, float* bias)
    {
        switch (type)
        {
            case GgmlType.Q4_0: Legacy(row, n, u, lanes, bias, Q4_0Bytes, qsOffset: 2, minOffset: -1, qhOffset: -1, offset: 8); break;
            case GgmlType.Q4_1: Legacy(row, n, u, lanes, bias, Q4_1Bytes, qsOffset: 4, minOffset: 2, qhOffset: -1, offset: 0); break;
            case GgmlType.Q5_0: Legacy(row, n, u, lanes, bias, Q5_0Bytes, qsOffset: 6, minOffset: -1, qhOffset: 2, offset: 16); break;
            case GgmlType.Q5_1: Legacy(row, n, u, lanes, bias, Q5_1Bytes, qsOffset: 8, minOffset: 2, qhOffset: 4, offset: 0); break;
            case GgmlType.Q8_0: Q8_0(row, n, u, lanes, bias); break;
            case GgmlType.Q4_K: Q45_K(row, n, u, lanes, bias, five: false); break;
            case GgmlType.Q5_K: Q45_K(row, n, u, lanes, bias, five: true); break;
            case GgmlType.Q6_K: Q6_K(row, n, u, lanes, bias); break;
            default: throw new NotSupportedException($"{type} has no integer dot product; use the fp32 path");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Half(byte* p) => HalfPrecision.HalfBitsToSingle(Unsafe.ReadUnaligned<ushort>(p));

    /// <summary>Sets 8 lane scales (32 weights).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Fill8(float* lanes, float value)
    {
        if (Vector256.IsHardwareAccelerated)
            Vector256.Create(value).Store(lanes);
        else
            for (int i = 0; i < 8; i++) lanes[i] = value;
    }

    /// <summary>16 packed bytes: low nibbles to lo[0..16), high nibbles to hi[0..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SplitNibbles16(byte* packed, byte* lo, byte* hi)
    {
        var v = Vector128.Load(packed);
        (v & Vector128.Create((byte)0xF)).Store(lo);
        Vector128.ShiftRightLogical(v, 4).Store(hi);
    }

    /// <summary>Byte j of the result is 16 if bit j of <paramref name="qh"/> is set: spreads the 5th bits
    /// of a Q5_0/Q5_1 block. Byte j is taken from byte j/8 of qh, masked with bit j%8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<byte> FifthBits(uint qh)
    {
        var source = Vector256.Create(qh).AsByte();
        var index = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        // Every 128-bit lane holds qh in its first 4 bytes, so an in-lane byte shuffle suffices.
        var spread = Avx2.IsSupported ? Avx2.Shuffle(source, index) : Vector256.Shuffle(source, index);
        var bit = Vector256.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
            1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        return Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)16);
    }

    static void Legacy(byte* row, int n, byte* u, float* lanes, float* bias,
        int blockBytes, int qsOffset, int minOffset, int qhOffset, int offset)
    {
        for (int b = 0; b < n / 32; b++)
        {
            byte* blk = row + (long)b * blockBytes;
            byte* ub = u + 32L * b;
            float d = Half(blk);
            var v = Vector128.Load(blk + qsOffset);
            var levels = Vector256.Create(v & Vector128.Create((byte)0xF), Vector128.ShiftRightLogical(v, 4));
            if (qhOffset >= 0)
                levels |= FifthBits(Unsafe.ReadUnaligned<uint>(blk + qhOffset));
            levels.Store(ub);
            Fill8(lanes + 8L * b, d);
            bias[b] = minOffset >= 0 ? Half(blk + minOffset) : -offset * d;
        }
    }

    static void Q8_0(byte* row, int n, byte* u, float* lanes, float* bias)
    {
        for (int b = 0; b < n / 32; b++)
        {
            byte* blk = row + (long)b * Q8_0Bytes;
            Vector256.Load(blk + 2).Store(u + 32L * b);
            Fill8(lanes + 8L * b, Half(blk));
            bias[b] = 0;
        }
    }

    static void Q45_K(byte* row, int n, byte* u, float* lanes, float* bias, bool five)
    {
        int blockBytes = five ? Q5_KBytes : Q4_KBytes;
        for (int b = 0; b < n / 256; b++)
        {
            byte* blk = row + (long)b * blockBytes;
            byte* ub = u + 256L * b;
            float d = Half(blk), dmin = Half(blk + 2);
            byte* qs = blk + (five ? KQs5 : KQs4);
            for (int c = 0; c < 4; c++) // chunk c: 32 bytes hold elements 64c..64c+31 (low) and 64c+32.. (high)
            {
                SplitNibbles16(qs + 32 * c, ub + 64 * c, ub + 64 * c + 32);
                SplitNibbles16(qs + 32 * c + 16, ub + 64 * c + 16, ub + 64 * c + 48);
            }
            if (five)
            {
                // bit 2c of qh[l] is the 5th bit of element 64c + l, bit 2c+1 that of element 64c + 32 + l
                var qh = Vector256.Load(blk + KQh5);
                var sixteen = Vector256.Create((byte)16);
                for (int c = 0; c < 4; c++)
                {
                    var m1 = Vector256.Create((byte)(1 << (2 * c)));
                    var m2 = Vector256.Create((byte)(2 << (2 * c)));
                    var lo = Vector256.Load(ub + 64 * c) | (Vector256.Equals(qh & m1, m1) & sixteen);
                    var hi = Vector256.Load(ub + 64 * c + 32) | (Vector256.Equals(qh & m2, m2) & sixteen);
                    lo.Store(ub + 64 * c);
                    hi.Store(ub + 64 * c + 32);
                }
            }
            var scales = new ReadOnlySpan<byte>(blk + KScales, 12);
            for (int j = 0; j < 8; j++)
            {
                ScaleMinK4(j, scales, out int sc, out int m);
                Fill8(lanes + 64L * b + 8 * j, d * sc);
                bias[8L * b + j] = -(dmin * m);
            }
        }
    }

    static void Q6_K(byte* row, int n, byte* u, float* lanes, float* bias)
    {
        var mask4 = Vector256.Create((byte)0xF);
        var mask2 = Vector256.Create((byte)3);
        for (int b = 0; b < n / 256; b++)
        {
            byte* blk = row + (long)b * Q6_KBytes;
            byte* ub = u + 256L * b;
            float d = Half(blk + Q6D);
            for (int h = 0; h < 2; h++)
            {
                // ql[l] → elements l (low nibble), l+64 (high); ql[l+32] → l+32, l+96; qh[l] bits 0-1,2-3,4-5,6-7
                var ql0 = Vector256.Load(blk + Q6Ql + 64 * h);
                var ql1 = Vector256.Load(blk + Q6Ql + 64 * h + 32);
                var qh = Vector256.Load(blk + Q6Qh + 32 * h);
                byte* uh = ub + 128 * h;
                ((ql0 & mask4) | Vector256.ShiftLeft(qh & mask2, 4)).Store(uh);
                ((ql1 & mask4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2) & mask2, 4)).Store(uh + 32);
                (Vector256.ShiftRightLogical(ql0, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 4) & mask2, 4)).Store(uh + 64);
                (Vector256.ShiftRightLogical(ql1, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 6), 4)).Store(uh + 96);
            }
            sbyte* sc = (sbyte*)(blk + Q6Scales);
            for (int j = 0; j < 16; j++)
            {
                float scale = d * sc[j];
                Vector128.Create(scale).Store(lanes + 64L * b + 4 * j);
                bias[16L * b + j] = -32 * scale;
            }
        }
    }
}
