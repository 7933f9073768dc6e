using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// The in-place decode kernels for CPUs with AVX2 but not AVX-512 (most desktop and many server x86 CPUs):
/// the same activation layouts (<see cref="FusedActivations"/>) and integer bounds as the 512-bit kernels,
/// one block (Q4_0, Q8_0) or one sub-block pair (K-quants) per 256-bit step. Weights are unpacked in
/// registers only, so each weight byte is read once and nothing is written back, which is what lets a
/// decode step run near the memory bandwidth instead of unpacking rows through a scratch buffer.
/// </summary>
internal static unsafe partial class FusedDot
{
    static bool Avx2Available => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The AVX2 kernels, whatever the CPU also has (so they can be tested on AVX-512 machines too).</summary>
    /// <summary>Whether <see cref="Dot"/> runs the AVX2 kernels (the activations must then be prepared for them).</summary>
    public static bool UsesAvx2 => !Available;

    public static bool IsSupportedAvx2(GgmlType type, int cols) => Avx2Available && type switch
    {
        GgmlType.Q4_0 or GgmlType.Q8_0 => cols % 128 == 0,
        GgmlType.Q4_K or GgmlType.Q6_K => cols % 256 == 0,
        _ => false,
    };

    public static float DotAvx2(GgmlType type, byte* row, FusedActivations a, int n) => type switch
    {
        GgmlType.Q4_0 => DotQ4_0Avx2(row, a, n),
        GgmlType.Q8_0 => DotQ8_0Avx2(row, a, n),
        GgmlType.Q4_K => DotQ4_KAvx2(row, a, n),
        GgmlType.Q6_K => DotQ6_KAvx2(row, a, n),
        _ => throw new NotSupportedException($"{type} has no AVX2 fused kernel"),
    };

    /// <summary>
    /// One block (18 bytes, 32 weights) per step: its 16 bytes hold weights 0..15 in the low nibbles and 16..31
    /// in the high ones, which is natural order once the two halves sit in the two 128-bit lanes. The levels
    /// stay unsigned (0..15); the −8 offset is the precomputed per-block term of the activations.
    /// </summary>
    static float DotQ4_0Avx2(byte* row, FusedActivations a, int n)
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        float offsets = 0;
        var nibbleMask = Vector128.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        for (int b = 0; b < n / 32; b += 2)
        {
            byte* block = row + b * Q4_0Bytes;
            if ((b & 3) == 0)
                Prefetch(block, 2);
            float d0 = halfToSingle[*(ushort*)block], d1 = halfToSingle[*(ushort*)(block + Q4_0Bytes)];
            acc0 = Fma.MultiplyAdd(Q4_0Block(block, a.Quants + b * 32, nibbleMask, ones), Vector256.Create(d0 * a.LaneScales[b * 8]), acc0);
            acc1 = Fma.MultiplyAdd(Q4_0Block(block + Q4_0Bytes, a.Quants + b * 32 + 32, nibbleMask, ones), Vector256.Create(d1 * a.LaneScales[b * 8 + 8]), acc1);
            offsets += d0 * a.BlockOffsets[b] + d1 * a.BlockOffsets[b + 1];
        }
        return Vector256.Sum(acc0 + acc1) + offsets;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Q4_0Block(byte* block, sbyte* q, Vector128<byte> nibbleMask, Vector256<short> ones)
    {
        var packed = Vector128.Load(block + 2);
        var levels = Vector256.Create(packed & nibbleMask, Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibbleMask);
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(levels, Vector256.Load(q)), ones));
    }

    /// <summary>One block (34 bytes, 32 weights) per step; signed weights through |w| and a·sign(w).</summary>
    static float DotQ8_0Avx2(byte* row, FusedActivations a, int n)
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var ones = Vector256.Create((short)1);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        for (int b = 0; b < n / 32; b += 2)
        {
            byte* block = row + b * Q8_0Bytes;
            if ((b & 3) == 0)
                Prefetch(block, 3);
            acc0 = Fma.MultiplyAdd(Q8_0Block(block, a.Quants + b * 32, ones),
                Vector256.Create(halfToSingle[*(ushort*)block] * a.LaneScales[b * 8]), acc0);
            acc1 = Fma.MultiplyAdd(Q8_0Block(block + Q8_0Bytes, a.Quants + (b + 1) * 32, ones),
                Vector256.Create(halfToSingle[*(ushort*)(block + Q8_0Bytes)] * a.LaneScales[(b + 1) * 8]), acc1);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Q8_0Block(byte* block, sbyte* q, Vector256<short> ones)
    {
        var w = Vector256.Load((sbyte*)block + 2);
        var x = Avx2.Sign(Vector256.Load(q), w);
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), x), ones));
    }

    /// <summary>
    /// One super-block per step: 32 bytes of nibbles give sub-blocks 2c (low) and 2c+1 (high); the 6-bit scale
    /// multiplies the int16 pair sums inside vpmaddwd, and the minimums meet the activations' sub-block sums.
    /// The activations hold sub-blocks in the order 0 2 1 3 4 6 5 7 (the 512-bit kernel's), an involution.
    /// </summary>
    static float DotQ4_KAvx2(byte* row, FusedActivations a, int n)
    {
        var acc = Vector256<float>.Zero;
        float minimums = 0;
        var nibbleMask = Vector256.Create((byte)0x0F);
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q4_KBytes;
            Prefetch(block, 3);
            sbyte* q = a.Quants + b * 256;
            UnpackQ4_KScales(block + 4, out ulong scaleBytes, out ulong minBytes);
            var lanes = Vector256<int>.Zero;
            for (int c = 0; c < 4; c++)
            {
                var qs = Vector256.Load(block + 16 + 32 * c);
                var low = qs & nibbleMask;
                var high = Vector256.ShiftRightLogical(qs.AsUInt16(), 4).AsByte() & nibbleMask;
                int even = 2 * c, odd = 2 * c + 1;
                lanes += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, Vector256.Load(q + 32 * KSlot(even))), Vector256.Create((short)(byte)(scaleBytes >> (8 * even))))
                       + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(high, Vector256.Load(q + 32 * KSlot(odd))), Vector256.Create((short)(byte)(scaleBytes >> (8 * odd))));
            }
            float da = a.BlockScales[b];
            float d = HalfPrecision.HalfBitsToSingle(*(ushort*)block) * da;
            float dmin = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 2)) * da;
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), Vector256.Create(d), acc);
            var mins = Vector128.WidenLower(Vector128.CreateScalar(minBytes).AsByte()).AsInt16();
            minimums += dmin * Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, Vector128.Load(a.BlockSums + b * 8)));
        }
        return Vector256.Sum(acc) - minimums;
    }

    /// <summary>Where sub-block j of a Q4_K super-block sits in the activations (slots 0 2 1 3 4 6 5 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int KSlot(int j) => (j & 4) | ((j & 1) << 1) | ((j & 2) >> 1);

    /// <summary>
    /// One super-block per step, in natural order: each 32-byte register of 6-bit levels spans two sub-blocks
    /// of 16, whose signed scales (broadcast per 128-bit lane by one byte shuffle) multiply the pair sums in
    /// vpmaddwd; the −32 offset meets the activations' sub-block sums.
    /// </summary>
    static float DotQ6_KAvx2(byte* row, FusedActivations a, int n)
    {
        var acc = Vector256<float>.Zero;
        float offsets = 0;
        var nibbleMask = Vector256.Create((byte)0x0F);
        var highBits = Vector256.Create((byte)0x30);
        var pick0 = Q6_KPairIndex(0); var pick1 = Q6_KPairIndex(1); var pick2 = Q6_KPairIndex(2); var pick3 = Q6_KPairIndex(3);
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q6_KBytes;
            Prefetch(block, 4);
            sbyte* q = a.Quants + b * 256;
            var scales16 = Vector256.WidenLower(Vector256.Create(Vector128.Load((sbyte*)block + 192), Vector128<sbyte>.Zero)); // 16 × int16
            var lanes = Vector256<int>.Zero;
            for (int half = 0; half < 2; half++)
            {
                // Both 128-bit lanes hold the 8 scales of this half, so an in-lane shuffle can pick any of them.
                var s = half == 0 ? Vector256.Create(scales16.GetLower()) : Vector256.Create(scales16.GetUpper());
                var ql0 = Vector256.Load(block + 64 * half);
                var ql1 = Vector256.Load(block + 64 * half + 32);
                var qh = Vector256.Load(block + 128 + 32 * half);
                var l0 = (ql0 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 4).AsByte() & highBits);
                var l1 = (ql1 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 2).AsByte() & highBits);
                var l2 = (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & nibbleMask) | (qh & highBits);
                var l3 = (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & nibbleMask) | (Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte() & highBits);
                sbyte* x = q + 128 * half;
                lanes += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(l0, Vector256.Load(x)), Avx2.Shuffle(s.AsByte(), pick0).AsInt16())
                       + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(l1, Vector256.Load(x + 32)), Avx2.Shuffle(s.AsByte(), pick1).AsInt16())
                       + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(l2, Vector256.Load(x + 64)), Avx2.Shuffle(s.AsByte(), pick2).AsInt16())
                       + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(l3, Vector256.Load(x + 96)), Avx2.Shuffle(s.AsByte(), pick3).AsInt16());
            }
            float d = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 208)) * a.BlockScales[b];
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), Vector256.Create(d), acc);
            int offsetSum = Vector256.Sum(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(a.BlockSums + b * 16)));
            offsets += d * 32 * offsetSum;
        }
        return Vector256.Sum(acc) - offsets;
    }

    /// <summary>Register k of a Q6_K half covers sub-blocks 2k (low 128-bit lane) and 2k+1 (high lane): every
    /// int16 of a lane takes that sub-block's scale from the 8 scales of the half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<byte> Q6_KPairIndex(int k)
    {
        byte lo = (byte)(4 * k), hi = (byte)(4 * k + 2);
        return Vector256.Create(
            Vector128.Create(lo, (byte)(lo + 1), lo, (byte)(lo + 1), lo, (byte)(lo + 1), lo, (byte)(lo + 1), lo, (byte)(lo + 1), lo, (byte)(lo + 1), lo, (byte)(lo + 1), lo, (byte)(lo + 1)),
            Vector128.Create(hi, (byte)(hi + 1), hi, (byte)(hi + 1), hi, (byte)(hi + 1), hi, (byte)(hi + 1), hi, (byte)(hi + 1), hi, (byte)(hi + 1), hi, (byte)(hi + 1), hi, (byte)(hi + 1)));
    }
}
