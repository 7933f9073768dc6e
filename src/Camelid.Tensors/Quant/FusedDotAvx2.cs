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

    /// <summary>Tokens per <see cref="DotAvx2Batch"/> call: one accumulator each, beside the shared unpacked
    /// weights (Q4_0, Q8_0), fits the 16 ymm registers.</summary>
    public const int Avx2Batch = 4;

    /// <summary>One token (a decode step of one sequence); the same code as a batch of one.</summary>
    public static float DotAvx2(GgmlType type, byte* row, FusedActivations a, int n)
    {
        float result;
        DotAvx2Batch(type, row, new ReadOnlySpan<FusedActivations>(ref a), n, &result, 1);
        return result;
    }

    /// <summary>
    /// y[t·yStride] = row · activations[t] for up to <see cref="Avx2Batch"/> tokens: each block is unpacked once
    /// for all of them, and every token's arithmetic is exactly that of a call with it alone (same operations,
    /// same order), so batching unrelated sequences does not change their results.
    /// </summary>
    public static void DotAvx2Batch(GgmlType type, byte* row, ReadOnlySpan<FusedActivations> activations, int n, float* y, long yStride)
    {
        switch (type, activations.Length)
        {
            case (GgmlType.Q4_0, 1): DotQ4_0Avx2<One>(row, activations, n, y, yStride); return;
            case (GgmlType.Q4_0, 2): DotQ4_0Avx2<Two>(row, activations, n, y, yStride); return;
            case (GgmlType.Q4_0, 3): DotQ4_0Avx2<Three>(row, activations, n, y, yStride); return;
            case (GgmlType.Q4_0, 4): DotQ4_0Avx2<Four>(row, activations, n, y, yStride); return;
            case (GgmlType.Q8_0, 1): DotQ8_0Avx2<One>(row, activations, n, y, yStride); return;
            case (GgmlType.Q8_0, 2): DotQ8_0Avx2<Two>(row, activations, n, y, yStride); return;
            case (GgmlType.Q8_0, 3): DotQ8_0Avx2<Three>(row, activations, n, y, yStride); return;
            case (GgmlType.Q8_0, 4): DotQ8_0Avx2<Four>(row, activations, n, y, yStride); return;
        }
        if (activations.Length is 0 or > Avx2Batch)
            throw new ArgumentOutOfRangeException(nameof(activations), $"1 to {Avx2Batch} tokens per call");
        Span<Vector256<float>> acc = stackalloc Vector256<float>[Avx2Batch];
        Span<float> scalars = stackalloc float[Avx2Batch];
        acc.Clear();
        scalars.Clear();
        switch (type)
        {
            case GgmlType.Q4_K: DotQ4_KAvx2(row, activations, n, acc, scalars); break;
            case GgmlType.Q6_K: DotQ6_KAvx2(row, activations, n, acc, scalars); break;
            default: throw new NotSupportedException($"{type} has no AVX2 fused kernel");
        }
        for (int t = 0; t < activations.Length; t++)
            y[t * yStride] = Vector256.Sum(acc[t]) + scalars[t];
    }

    /// <summary>How many tokens a specialised kernel handles: the JIT compiles one body per count, with every
    /// accumulator in a register and the branches for absent tokens removed.</summary>
    interface ITokenCount { static abstract int Count { get; } }
    struct One : ITokenCount { public static int Count => 1; }
    struct Two : ITokenCount { public static int Count => 2; }
    struct Three : ITokenCount { public static int Count => 3; }
    struct Four : ITokenCount { public static int Count => 4; }

    /// <summary>
    /// Two blocks (18 bytes, 32 weights each) per step: a block's 16 bytes hold weights 0..15 in the low nibbles
    /// and 16..31 in the high ones, natural order once the halves sit in the two 128-bit lanes. Per token:
    /// int32 lanes of 4 products, plus the lane's −8·Σa (<see cref="FusedActivations.LaneBias"/>), times the
    /// activation scale, times the block's weight scale into the token's accumulator.
    /// </summary>
    static void DotQ4_0Avx2<T>(byte* row, ReadOnlySpan<FusedActivations> a, int n, float* y, long yStride) where T : struct, ITokenCount
    {
        var nibbleMask = Vector128.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var t0 = a[0];
        var t1 = T.Count > 1 ? a[1] : t0;
        var t2 = T.Count > 2 ? a[2] : t0;
        var t3 = T.Count > 3 ? a[3] : t0;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        sbyte* q0 = t0.Quants; int* bias0 = t0.LaneBias; float* scale0 = t0.LaneScales;
        sbyte* q1 = t1.Quants; int* bias1 = t1.LaneBias; float* scale1 = t1.LaneScales;
        sbyte* q2 = t2.Quants; int* bias2 = t2.LaneBias; float* scale2 = t2.LaneScales;
        sbyte* q3 = t3.Quants; int* bias3 = t3.LaneBias; float* scale3 = t3.LaneScales;
        for (int b = 0; b < n / 32; b += 2)
        {
            byte* block = row + b * Q4_0Bytes;
            if ((b & 3) == 0)
                Prefetch(block, 2);
            var dEven = Vector256.Create(halfToSingle[*(ushort*)block]);
            var dOdd = Vector256.Create(halfToSingle[*(ushort*)(block + Q4_0Bytes)]);
            var even = Q4_0Levels(block, nibbleMask);
            var odd = Q4_0Levels(block + Q4_0Bytes, nibbleMask);
            int lane = b * 8; // activation lanes of 4 values before this block pair
            acc0 = Fma.MultiplyAdd(Q4_0Lanes(odd, q0, bias0, scale0, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q4_0Lanes(even, q0, bias0, scale0, lane, ones), dEven, acc0));
            if (T.Count > 1) acc1 = Fma.MultiplyAdd(Q4_0Lanes(odd, q1, bias1, scale1, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q4_0Lanes(even, q1, bias1, scale1, lane, ones), dEven, acc1));
            if (T.Count > 2) acc2 = Fma.MultiplyAdd(Q4_0Lanes(odd, q2, bias2, scale2, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q4_0Lanes(even, q2, bias2, scale2, lane, ones), dEven, acc2));
            if (T.Count > 3) acc3 = Fma.MultiplyAdd(Q4_0Lanes(odd, q3, bias3, scale3, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q4_0Lanes(even, q3, bias3, scale3, lane, ones), dEven, acc3));
        }
        y[0] = Vector256.Sum(acc0);
        if (T.Count > 1) y[1 * yStride] = Vector256.Sum(acc1);
        if (T.Count > 2) y[2 * yStride] = Vector256.Sum(acc2);
        if (T.Count > 3) y[3 * yStride] = Vector256.Sum(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<byte> Q4_0Levels(byte* block, Vector128<byte> nibbleMask)
    {
        var packed = Vector128.Load(block + 2);
        return Vector256.Create(packed & nibbleMask, Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibbleMask);
    }

    /// <summary>One block's 8 lanes for one token: Σ of 4 level·activation products − 8·Σ of the 4 activations, times the activation scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Q4_0Lanes(Vector256<byte> levels, sbyte* q, int* bias, float* scale, int lane, Vector256<short> ones)
    {
        var products = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(levels, Vector256.Load(q + 4 * lane)), ones);
        return Avx.ConvertToVector256Single(products + Vector256.Load(bias + lane)) * Vector256.Load(scale + lane);
    }

    /// <summary>Two blocks (34 bytes, 32 weights each) per step; signed weights through |w| and a·sign(w).</summary>
    static void DotQ8_0Avx2<T>(byte* row, ReadOnlySpan<FusedActivations> a, int n, float* y, long yStride) where T : struct, ITokenCount
    {
        var ones = Vector256.Create((short)1);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var t0 = a[0];
        var t1 = T.Count > 1 ? a[1] : t0;
        var t2 = T.Count > 2 ? a[2] : t0;
        var t3 = T.Count > 3 ? a[3] : t0;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        sbyte* q0 = t0.Quants; float* scale0 = t0.LaneScales;
        sbyte* q1 = t1.Quants; float* scale1 = t1.LaneScales;
        sbyte* q2 = t2.Quants; float* scale2 = t2.LaneScales;
        sbyte* q3 = t3.Quants; float* scale3 = t3.LaneScales;
        for (int b = 0; b < n / 32; b += 2)
        {
            byte* block = row + b * Q8_0Bytes;
            if ((b & 3) == 0)
                Prefetch(block, 3);
            var dEven = Vector256.Create(halfToSingle[*(ushort*)block]);
            var dOdd = Vector256.Create(halfToSingle[*(ushort*)(block + Q8_0Bytes)]);
            var wEven = Vector256.Load((sbyte*)block + 2);
            var wOdd = Vector256.Load((sbyte*)block + Q8_0Bytes + 2);
            var mEven = Avx2.Abs(wEven);
            var mOdd = Avx2.Abs(wOdd);
            int lane = b * 8;
            acc0 = Fma.MultiplyAdd(Q8_0Lanes(mOdd, wOdd, q0, scale0, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q8_0Lanes(mEven, wEven, q0, scale0, lane, ones), dEven, acc0));
            if (T.Count > 1) acc1 = Fma.MultiplyAdd(Q8_0Lanes(mOdd, wOdd, q1, scale1, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q8_0Lanes(mEven, wEven, q1, scale1, lane, ones), dEven, acc1));
            if (T.Count > 2) acc2 = Fma.MultiplyAdd(Q8_0Lanes(mOdd, wOdd, q2, scale2, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q8_0Lanes(mEven, wEven, q2, scale2, lane, ones), dEven, acc2));
            if (T.Count > 3) acc3 = Fma.MultiplyAdd(Q8_0Lanes(mOdd, wOdd, q3, scale3, lane + 8, ones), dOdd, Fma.MultiplyAdd(Q8_0Lanes(mEven, wEven, q3, scale3, lane, ones), dEven, acc3));
        }
        y[0] = Vector256.Sum(acc0);
        if (T.Count > 1) y[1 * yStride] = Vector256.Sum(acc1);
        if (T.Count > 2) y[2 * yStride] = Vector256.Sum(acc2);
        if (T.Count > 3) y[3 * yStride] = Vector256.Sum(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Q8_0Lanes(Vector256<byte> magnitude, Vector256<sbyte> w, sbyte* q, float* scale, int lane, Vector256<short> ones) =>
        Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitude, Avx2.Sign(Vector256.Load(q + 4 * lane), w)), ones))
        * Vector256.Load(scale + lane);

    /// <summary>
    /// One super-block per step: 32 bytes of nibbles give sub-blocks 2c (low) and 2c+1 (high); the 6-bit scale
    /// multiplies the int16 pair sums inside vpmaddwd, and the minimums meet the activations' sub-block sums.
    /// The activations hold sub-blocks in the order 0 2 1 3 4 6 5 7 (the 512-bit kernel's), an involution.
    /// </summary>
    static void DotQ4_KAvx2(byte* row, ReadOnlySpan<FusedActivations> activations, int n, Span<Vector256<float>> acc, Span<float> minimums)
    {
        var nibbleMask = Vector256.Create((byte)0x0F);
        Span<Vector256<byte>> levels = stackalloc Vector256<byte>[8];
        Span<Vector256<short>> scales = stackalloc Vector256<short>[8];
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q4_KBytes;
            Prefetch(block, 3);
            UnpackQ4_KScales(block + 4, out ulong scaleBytes, out ulong minBytes);
            for (int c = 0; c < 4; c++)
            {
                var qs = Vector256.Load(block + 16 + 32 * c);
                levels[2 * c] = qs & nibbleMask;
                levels[2 * c + 1] = Vector256.ShiftRightLogical(qs.AsUInt16(), 4).AsByte() & nibbleMask;
            }
            for (int j = 0; j < 8; j++)
                scales[j] = Vector256.Create((short)(byte)(scaleBytes >> (8 * j)));
            float dw = HalfPrecision.HalfBitsToSingle(*(ushort*)block), dminw = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 2));
            var mins = Vector128.WidenLower(Vector128.CreateScalar(minBytes).AsByte()).AsInt16();
            for (int t = 0; t < activations.Length; t++)
            {
                var a = activations[t];
                sbyte* q = a.Quants + b * 256;
                var lanes = Vector256<int>.Zero;
                for (int j = 0; j < 8; j++)
                    lanes += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(levels[j], Vector256.Load(q + 32 * KSlot(j))), scales[j]);
                float da = a.BlockScales[b];
                acc[t] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), Vector256.Create(dw * da), acc[t]);
                minimums[t] -= dminw * da * Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, Vector128.Load(a.BlockSums + b * 8)));
            }
        }
    }

    /// <summary>Where sub-block j of a Q4_K super-block sits in the activations (slots 0 2 1 3 4 6 5 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int KSlot(int j) => (j & 4) | ((j & 1) << 1) | ((j & 2) >> 1);

    /// <summary>
    /// One super-block per step, in natural order: each 32-byte register of 6-bit levels spans two sub-blocks
    /// of 16, whose signed scales (broadcast per 128-bit lane by one byte shuffle) multiply the pair sums in
    /// vpmaddwd; the −32 offset meets the activations' sub-block sums.
    /// </summary>
    static void DotQ6_KAvx2(byte* row, ReadOnlySpan<FusedActivations> activations, int n, Span<Vector256<float>> acc, Span<float> offsets)
    {
        var nibbleMask = Vector256.Create((byte)0x0F);
        var highBits = Vector256.Create((byte)0x30);
        var pick0 = Q6_KPairIndex(0); var pick1 = Q6_KPairIndex(1); var pick2 = Q6_KPairIndex(2); var pick3 = Q6_KPairIndex(3);
        Span<Vector256<byte>> levels = stackalloc Vector256<byte>[8];
        Span<Vector256<short>> scales = stackalloc Vector256<short>[8];
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q6_KBytes;
            Prefetch(block, 4);
            var scales16 = Vector256.WidenLower(Vector256.Create(Vector128.Load((sbyte*)block + 192), Vector128<sbyte>.Zero)); // 16 × int16
            for (int half = 0; half < 2; half++)
            {
                // Both 128-bit lanes hold the 8 scales of this half, so an in-lane shuffle can pick any of them.
                var s = (half == 0 ? Vector256.Create(scales16.GetLower()) : Vector256.Create(scales16.GetUpper())).AsByte();
                var ql0 = Vector256.Load(block + 64 * half);
                var ql1 = Vector256.Load(block + 64 * half + 32);
                var qh = Vector256.Load(block + 128 + 32 * half);
                levels[4 * half] = (ql0 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 4).AsByte() & highBits);
                levels[4 * half + 1] = (ql1 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 2).AsByte() & highBits);
                levels[4 * half + 2] = (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & nibbleMask) | (qh & highBits);
                levels[4 * half + 3] = (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & nibbleMask) | (Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte() & highBits);
                scales[4 * half] = Avx2.Shuffle(s, pick0).AsInt16();
                scales[4 * half + 1] = Avx2.Shuffle(s, pick1).AsInt16();
                scales[4 * half + 2] = Avx2.Shuffle(s, pick2).AsInt16();
                scales[4 * half + 3] = Avx2.Shuffle(s, pick3).AsInt16();
            }
            float dw = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 208));
            for (int t = 0; t < activations.Length; t++)
            {
                var a = activations[t];
                sbyte* q = a.Quants + b * 256;
                var lanes = Vector256<int>.Zero;
                for (int j = 0; j < 8; j++)
                    lanes += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(levels[j], Vector256.Load(q + 32 * j)), scales[j]);
                float d = dw * a.BlockScales[b];
                acc[t] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), Vector256.Create(d), acc[t]);
                int offsetSum = Vector256.Sum(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(a.BlockSums + b * 16)));
                offsets[t] -= d * 32 * offsetSum;
            }
        }
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
