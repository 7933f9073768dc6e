using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// The in-place decode kernels for CPUs with AVX2 but not AVX-512 (most desktop and many server x86 CPUs):
/// the integer bounds of the 512-bit kernels, one block (Q4_0, Q8_0) or one sub-block pair (K-quants) per
/// 256-bit step, and the tokens of a batch taken together (up to 8 over <see cref="InterleavedActivations"/>
/// for Q4_0 and Q8_0, up to 4 over <see cref="FusedActivations"/> for the K-quants). Weights are unpacked in
/// registers only, so each weight byte is read once and nothing is written back, which is what lets a
/// decode step run near the memory bandwidth instead of unpacking rows through a scratch buffer.
/// </summary>
internal static unsafe partial class FusedDot
{
    static bool Avx2Available => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether <see cref="Dot"/> runs the AVX2 kernels (the activations must then be prepared for them).</summary>
    public static bool UsesAvx2 => !Available;

    public static bool IsSupportedAvx2(GgmlType type, int cols) => Avx2Available && type switch
    {
        GgmlType.Q4_0 or GgmlType.Q8_0 => cols % 128 == 0,
        GgmlType.Q4_K or GgmlType.Q6_K => cols % 256 == 0,
        _ => false,
    };

    /// <summary>Tokens per <see cref="DotAvx2Batch"/> call (K-quants): one accumulator each fits the 16 ymm registers.</summary>
    public const int Avx2Batch = 4;

    /// <summary>One token (a decode step of one sequence) of a K-quant; the same code as a batch of one.</summary>
    public static float DotAvx2(GgmlType type, byte* row, FusedActivations a, int n)
    {
        float result;
        DotAvx2Batch(type, row, new ReadOnlySpan<FusedActivations>(ref a), n, &result, 1);
        return result;
    }

    /// <summary>
    /// y[t·yStride] = row · activations[t] for up to <see cref="Avx2Batch"/> tokens of a K-quant: each block is
    /// unpacked once for all of them, and every token's arithmetic is exactly that of a call with it alone
    /// (same operations, same order), so batching unrelated sequences does not change their results.
    /// </summary>
    public static void DotAvx2Batch(GgmlType type, byte* row, ReadOnlySpan<FusedActivations> activations, int n, float* y, long yStride)
    {
        if (activations.Length is 0 or > Avx2Batch)
            throw new ArgumentOutOfRangeException(nameof(activations), $"1 to {Avx2Batch} tokens per call");
        switch (type, activations.Length)
        {
            case (GgmlType.Q4_K, 1): DotQ4_KAvx2<One>(row, activations, n, y, yStride); break;
            case (GgmlType.Q4_K, 2): DotQ4_KAvx2<Two>(row, activations, n, y, yStride); break;
            case (GgmlType.Q4_K, 3): DotQ4_KAvx2<Three>(row, activations, n, y, yStride); break;
            case (GgmlType.Q4_K, _): DotQ4_KAvx2<Four>(row, activations, n, y, yStride); break;
            case (GgmlType.Q6_K, 1): DotQ6_KAvx2<One>(row, activations, n, y, yStride); break;
            case (GgmlType.Q6_K, 2): DotQ6_KAvx2<Two>(row, activations, n, y, yStride); break;
            case (GgmlType.Q6_K, 3): DotQ6_KAvx2<Three>(row, activations, n, y, yStride); break;
            case (GgmlType.Q6_K, _): DotQ6_KAvx2<Four>(row, activations, n, y, yStride); break;
            default: throw new NotSupportedException($"{type} has no AVX2 kernel over per-token activations");
        }
    }

    /// <summary>
    /// y[t·yStride] = row · token t of <paramref name="group"/> for Q4_0 and Q8_0 (one fp16 scale per 32 weights),
    /// 1 to <see cref="InterleavedActivations.MaxTokens"/> tokens: each block is unpacked once for all of them, and
    /// every token's arithmetic is exactly that of a group holding it alone (the lanes of a vector never mix), so
    /// batching unrelated sequences does not change their results.
    /// </summary>
    [SkipLocalsInit]
    public static void DotInterleavedAvx2(GgmlType type, byte* row, InterleavedActivations group, float* y, long yStride)
    {
        int blocks = group.Blocks;
        sbyte* q = group.Quants;
        float* s = group.Scales;
        if (type == GgmlType.Q4_0)
        {
            float* weightScales = stackalloc float[blocks];
            switch (group.Tokens)
            {
                case 1: DotQ4_0Avx2<One>(row, weightScales, blocks, q, s, y, yStride); break;
                case 2: DotQ4_0Avx2<Two>(row, weightScales, blocks, q, s, y, yStride); break;
                case 3: DotQ4_0Avx2<Three>(row, weightScales, blocks, q, s, y, yStride); break;
                case 4: DotQ4_0Avx2<Four>(row, weightScales, blocks, q, s, y, yStride); break;
                case 5: DotQ4_0Avx2<Five>(row, weightScales, blocks, q, s, y, yStride); break;
                case 6: DotQ4_0Avx2<Six>(row, weightScales, blocks, q, s, y, yStride); break;
                case 7: DotQ4_0Avx2<Seven>(row, weightScales, blocks, q, s, y, yStride); break;
                default: DotQ4_0Avx2<Eight>(row, weightScales, blocks, q, s, y, yStride); break;
            }
            // The levels' −8 offset, once per row: −8·Σ_b d_w·(d_a·Σa) over the blocks.
            for (int t = 0; t < group.Tokens; t++)
                y[t * yStride] -= 8 * DotOfScales(weightScales, group.GroupSums + t * blocks, blocks);
        }
        else if (type == GgmlType.Q8_0)
        {
            switch (group.Tokens)
            {
                case 1: DotQ8_0Avx2<One>(row, blocks, q, s, y, yStride); break;
                case 2: DotQ8_0Avx2<Two>(row, blocks, q, s, y, yStride); break;
                case 3: DotQ8_0Avx2<Three>(row, blocks, q, s, y, yStride); break;
                case 4: DotQ8_0Avx2<Four>(row, blocks, q, s, y, yStride); break;
                case 5: DotQ8_0Avx2<Five>(row, blocks, q, s, y, yStride); break;
                case 6: DotQ8_0Avx2<Six>(row, blocks, q, s, y, yStride); break;
                case 7: DotQ8_0Avx2<Seven>(row, blocks, q, s, y, yStride); break;
                default: DotQ8_0Avx2<Eight>(row, blocks, q, s, y, yStride); break;
            }
        }
        else
        {
            throw new NotSupportedException($"{type} has no AVX2 kernel over interleaved activations");
        }
    }

    /// <summary>Σ_b x[b]·y[b], 8 at a time then the rest: the same order for every caller.</summary>
    static float DotOfScales(float* x, float* y, int count)
    {
        var acc = Vector256<float>.Zero;
        int b = 0;
        for (; b + 8 <= count; b += 8)
            acc = Fma.MultiplyAdd(Vector256.Load(x + b), Vector256.Load(y + b), acc);
        float sum = Vector256.Sum(acc);
        for (; b < count; b++)
            sum += x[b] * y[b];
        return sum;
    }

    /// <summary>How many tokens a specialised kernel handles: the JIT compiles one body per count, with every
    /// accumulator in a register, every token's data at a constant offset, and the branches for absent tokens removed.</summary>
    interface ITokenCount { static abstract int Count { get; } }
    struct One : ITokenCount { public static int Count => 1; }
    struct Two : ITokenCount { public static int Count => 2; }
    struct Three : ITokenCount { public static int Count => 3; }
    struct Four : ITokenCount { public static int Count => 4; }
    struct Five : ITokenCount { public static int Count => 5; }
    struct Six : ITokenCount { public static int Count => 6; }
    struct Seven : ITokenCount { public static int Count => 7; }
    struct Eight : ITokenCount { public static int Count => 8; }

    /// <summary>
    /// One block (18 bytes, 32 weights) per step: its 16 bytes hold weights 0..15 in the low nibbles and 16..31
    /// in the high ones, natural order once the halves sit in the two 128-bit lanes. Per token: the levels
    /// (0..15) times the activations in 8 int32 lanes, times d_w·d_a, into its accumulator. The row's scales
    /// are kept in <paramref name="dw"/> for the offset term.
    /// </summary>
    static void DotQ4_0Avx2<T>(byte* row, float* dw, int blocks, sbyte* quants, float* scales, float* y, long yStride) where T : struct, ITokenCount
    {
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var nibbleMask = Vector128.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        byte* block = row;
        sbyte* q = quants;
        for (int b = 0; b < blocks; b++, block += Q4_0Bytes, q += 32 * T.Count, scales += InterleavedActivations.ScalesPerBlock)
        {
            if ((b & 3) == 0)
                Prefetch(block, 2);
            var packed = Vector128.Load(block + 2);
            var levels = Vector256.Create(packed & nibbleMask, Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibbleMask);
            float weightScale = dw[b] = halfToSingle[*(ushort*)block];
            if (T.Count == 1)
            {
                // One token: a scalar product is cheaper than the vector one and rounds the same.
                acc0 = LevelStep(levels, Vector256.Load(q), Vector256.Create(weightScale * scales[0]), ones, acc0);
                continue;
            }
            var d0123 = Vector256.Create(weightScale) * Vector256.Load(scales);
            var d4567 = T.Count > 4 ? Vector256.Create(weightScale) * Vector256.Load(scales + 8) : d0123;
            acc0 = LevelStep(levels, Vector256.Load(q), Avx.Permute(d0123, 0x00), ones, acc0);
            if (T.Count > 1) acc1 = LevelStep(levels, Vector256.Load(q + 32), Avx.Permute(d0123, 0x55), ones, acc1);
            if (T.Count > 2) acc2 = LevelStep(levels, Vector256.Load(q + 64), Avx.Permute(d0123, 0xAA), ones, acc2);
            if (T.Count > 3) acc3 = LevelStep(levels, Vector256.Load(q + 96), Avx.Permute(d0123, 0xFF), ones, acc3);
            if (T.Count > 4) acc4 = LevelStep(levels, Vector256.Load(q + 128), Avx.Permute(d4567, 0x00), ones, acc4);
            if (T.Count > 5) acc5 = LevelStep(levels, Vector256.Load(q + 160), Avx.Permute(d4567, 0x55), ones, acc5);
            if (T.Count > 6) acc6 = LevelStep(levels, Vector256.Load(q + 192), Avx.Permute(d4567, 0xAA), ones, acc6);
            if (T.Count > 7) acc7 = LevelStep(levels, Vector256.Load(q + 224), Avx.Permute(d4567, 0xFF), ones, acc7);
        }
        StoreSums<T>(y, yStride, acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
    }

    /// <summary>One block (34 bytes, 32 weights) per step; signed weights through |w| and a·sign(w).</summary>
    static void DotQ8_0Avx2<T>(byte* row, int blocks, sbyte* quants, float* scales, float* y, long yStride) where T : struct, ITokenCount
    {
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var ones = Vector256.Create((short)1);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        byte* block = row;
        sbyte* q = quants;
        for (int b = 0; b < blocks; b++, block += Q8_0Bytes, q += 32 * T.Count, scales += InterleavedActivations.ScalesPerBlock)
        {
            if ((b & 1) == 0)
                Prefetch(block, 2);
            var w = Vector256.Load((sbyte*)block + 2);
            var magnitude = Avx2.Abs(w);
            float weightScale = halfToSingle[*(ushort*)block];
            if (T.Count == 1)
            {
                acc0 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q), w), Vector256.Create(weightScale * scales[0]), ones, acc0);
                continue;
            }
            var d0123 = Vector256.Create(weightScale) * Vector256.Load(scales);
            var d4567 = T.Count > 4 ? Vector256.Create(weightScale) * Vector256.Load(scales + 8) : d0123;
            acc0 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q), w), Avx.Permute(d0123, 0x00), ones, acc0);
            if (T.Count > 1) acc1 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 32), w), Avx.Permute(d0123, 0x55), ones, acc1);
            if (T.Count > 2) acc2 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 64), w), Avx.Permute(d0123, 0xAA), ones, acc2);
            if (T.Count > 3) acc3 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 96), w), Avx.Permute(d0123, 0xFF), ones, acc3);
            if (T.Count > 4) acc4 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 128), w), Avx.Permute(d4567, 0x00), ones, acc4);
            if (T.Count > 5) acc5 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 160), w), Avx.Permute(d4567, 0x55), ones, acc5);
            if (T.Count > 6) acc6 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 192), w), Avx.Permute(d4567, 0xAA), ones, acc6);
            if (T.Count > 7) acc7 = LevelStep(magnitude, Avx2.Sign(Vector256.Load(q + 224), w), Avx.Permute(d4567, 0xFF), ones, acc7);
        }
        StoreSums<T>(y, yStride, acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
    }

    /// <summary>acc + (unsigned levels · signed activations, in 8 int32 lanes of 4 products) · scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> LevelStep(Vector256<byte> levels, Vector256<sbyte> q, Vector256<float> scale, Vector256<short> ones, Vector256<float> acc) =>
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(levels, q), ones)), scale, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreSums<T>(float* y, long yStride, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> acc2, Vector256<float> acc3,
        Vector256<float> acc4, Vector256<float> acc5, Vector256<float> acc6, Vector256<float> acc7) where T : struct, ITokenCount
    {
        y[0] = Vector256.Sum(acc0);
        if (T.Count > 1) y[1 * yStride] = Vector256.Sum(acc1);
        if (T.Count > 2) y[2 * yStride] = Vector256.Sum(acc2);
        if (T.Count > 3) y[3 * yStride] = Vector256.Sum(acc3);
        if (T.Count > 4) y[4 * yStride] = Vector256.Sum(acc4);
        if (T.Count > 5) y[5 * yStride] = Vector256.Sum(acc5);
        if (T.Count > 6) y[6 * yStride] = Vector256.Sum(acc6);
        if (T.Count > 7) y[7 * yStride] = Vector256.Sum(acc7);
    }

    /// <summary>
    /// One super-block per step: 32 bytes of nibbles give sub-blocks 2c (low) and 2c+1 (high); the 6-bit scale
    /// multiplies the int16 pair sums inside vpmaddwd, and the minimums meet the activations' sub-block sums.
    /// The activations hold sub-blocks in the order 0 2 1 3 4 6 5 7 (the 512-bit kernel's), an involution.
    /// </summary>
    static void DotQ4_KAvx2<T>(byte* row, ReadOnlySpan<FusedActivations> a, int n, float* y, long yStride) where T : struct, ITokenCount
    {
        var nibbleMask = Vector256.Create((byte)0x0F);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var t0 = a[0];
        var t1 = T.Count > 1 ? a[1] : t0;
        var t2 = T.Count > 2 ? a[2] : t0;
        var t3 = T.Count > 3 ? a[3] : t0;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float min0 = 0, min1 = 0, min2 = 0, min3 = 0;
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q4_KBytes;
            Prefetch(block, 3);
            UnpackQ4_KScales(block + 4, out ulong scaleBytes, out ulong minBytes);
            // Both 128-bit lanes hold the 8 scales as int16, so one in-lane byte shuffle broadcasts any of them.
            var scales = Vector256.Create(Vector128.WidenLower(Vector128.CreateScalar(scaleBytes).AsByte()).AsInt16()).AsByte();
            Vector256<int> lanes0 = default, lanes1 = default, lanes2 = default, lanes3 = default;
            int o = b * 256;
            for (int c = 0; c < 4; c++)
            {
                var qs = Vector256.Load(block + 16 + 32 * c);
                var low = qs & nibbleMask;                                                  // sub-block 2c
                var high = Vector256.ShiftRightLogical(qs.AsUInt16(), 4).AsByte() & nibbleMask; // sub-block 2c+1
                var sLow = Avx2.Shuffle(scales, Q4_KScaleBroadcast[2 * c]).AsInt16();
                var sHigh = Avx2.Shuffle(scales, Q4_KScaleBroadcast[2 * c + 1]).AsInt16();
                int lowAt = o + 32 * KSlot(2 * c), highAt = o + 32 * KSlot(2 * c + 1);
                lanes0 += SubBlockPair(low, t0.Quants + lowAt, sLow, high, t0.Quants + highAt, sHigh);
                if (T.Count > 1) lanes1 += SubBlockPair(low, t1.Quants + lowAt, sLow, high, t1.Quants + highAt, sHigh);
                if (T.Count > 2) lanes2 += SubBlockPair(low, t2.Quants + lowAt, sLow, high, t2.Quants + highAt, sHigh);
                if (T.Count > 3) lanes3 += SubBlockPair(low, t3.Quants + lowAt, sLow, high, t3.Quants + highAt, sHigh);
            }
            float dw = halfToSingle[*(ushort*)block], dminw = halfToSingle[*(ushort*)(block + 2)];
            var mins = Vector128.WidenLower(Vector128.CreateScalar(minBytes).AsByte()).AsInt16();
            acc0 = Q4_KBlockEnd(lanes0, dw, dminw, mins, t0, b, acc0, ref min0);
            if (T.Count > 1) acc1 = Q4_KBlockEnd(lanes1, dw, dminw, mins, t1, b, acc1, ref min1);
            if (T.Count > 2) acc2 = Q4_KBlockEnd(lanes2, dw, dminw, mins, t2, b, acc2, ref min2);
            if (T.Count > 3) acc3 = Q4_KBlockEnd(lanes3, dw, dminw, mins, t3, b, acc3, ref min3);
        }
        y[0] = Vector256.Sum(acc0) + min0;
        if (T.Count > 1) y[yStride] = Vector256.Sum(acc1) + min1;
        if (T.Count > 2) y[2 * yStride] = Vector256.Sum(acc2) + min2;
        if (T.Count > 3) y[3 * yStride] = Vector256.Sum(acc3) + min3;
    }

    /// <summary>Two sub-blocks of one token: levels × activations summed in pairs, times each sub-block's 6-bit scale (vpmaddwd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> SubBlockPair(Vector256<byte> low, sbyte* lowQ, Vector256<short> lowScale, Vector256<byte> high, sbyte* highQ, Vector256<short> highScale) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, Vector256.Load(lowQ)), lowScale)
        + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(high, Vector256.Load(highQ)), highScale);

    /// <summary>A token's super-block total: its int32 lanes times d_w·d_a into the accumulator, and the minimums
    /// (dmin_w·d_a·Σ m_j·Σa_j) subtracted from its scalar term.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Q4_KBlockEnd(Vector256<int> lanes, float dw, float dminw, Vector128<short> mins, FusedActivations a, int b, Vector256<float> acc, ref float minimums)
    {
        float da = a.BlockScales[b];
        minimums -= dminw * da * Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, Vector128.Load(a.BlockSums + b * 8)));
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), Vector256.Create(dw * da), acc);
    }

    /// <summary>In-lane byte shuffles that broadcast int16 scale j (bytes 2j, 2j+1) of a 128-bit lane to all 8 of its words.</summary>
    static readonly Vector256<byte>[] Q4_KScaleBroadcast = Enumerable.Range(0, 8).Select(j =>
    {
        var index = new byte[32];
        for (int i = 0; i < 32; i++)
            index[i] = (byte)(2 * j + (i & 1));
        return Vector256.Create(index);
    }).ToArray();

    /// <summary>Where sub-block j of a Q4_K super-block sits in the activations (slots 0 2 1 3 4 6 5 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int KSlot(int j) => (j & 4) | ((j & 1) << 1) | ((j & 2) >> 1);

    /// <summary>
    /// One super-block per step, in natural order: each 32-byte register of 6-bit levels spans two sub-blocks
    /// of 16, whose signed scales (broadcast per 128-bit lane by one byte shuffle) multiply the pair sums in
    /// vpmaddwd; the −32 offset meets the activations' sub-block sums.
    /// </summary>
    static void DotQ6_KAvx2<T>(byte* row, ReadOnlySpan<FusedActivations> a, int n, float* y, long yStride) where T : struct, ITokenCount
    {
        var nibbleMask = Vector256.Create((byte)0x0F);
        var highBits = Vector256.Create((byte)0x30);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var t0 = a[0];
        var t1 = T.Count > 1 ? a[1] : t0;
        var t2 = T.Count > 2 ? a[2] : t0;
        var t3 = T.Count > 3 ? a[3] : t0;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float off0 = 0, off1 = 0, off2 = 0, off3 = 0;
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q6_KBytes;
            Prefetch(block, 4);
            var scales16 = Vector256.WidenLower(Vector256.Create(Vector128.Load((sbyte*)block + 192), Vector128<sbyte>.Zero)); // 16 × int16
            Vector256<int> lanes0 = default, lanes1 = default, lanes2 = default, lanes3 = default;
            for (int half = 0; half < 2; half++)
            {
                // Both 128-bit lanes hold the 8 scales of this half, so an in-lane shuffle can pick any of them.
                var s = (half == 0 ? Vector256.Create(scales16.GetLower()) : Vector256.Create(scales16.GetUpper())).AsByte();
                var ql0 = Vector256.Load(block + 64 * half);
                var ql1 = Vector256.Load(block + 64 * half + 32);
                var qh = Vector256.Load(block + 128 + 32 * half);
                int o = b * 256 + 128 * half;
                // Registers 0 and 1 of the half (levels in natural order, 32 each), then 2 and 3.
                var l0 = (ql0 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 4).AsByte() & highBits);
                var l1 = (ql1 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 2).AsByte() & highBits);
                var s0 = Avx2.Shuffle(s, Q6_KPairIndex(0)).AsInt16();
                var s1 = Avx2.Shuffle(s, Q6_KPairIndex(1)).AsInt16();
                lanes0 += SubBlockPair(l0, t0.Quants + o, s0, l1, t0.Quants + o + 32, s1);
                if (T.Count > 1) lanes1 += SubBlockPair(l0, t1.Quants + o, s0, l1, t1.Quants + o + 32, s1);
                if (T.Count > 2) lanes2 += SubBlockPair(l0, t2.Quants + o, s0, l1, t2.Quants + o + 32, s1);
                if (T.Count > 3) lanes3 += SubBlockPair(l0, t3.Quants + o, s0, l1, t3.Quants + o + 32, s1);
                var l2 = (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & nibbleMask) | (qh & highBits);
                var l3 = (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & nibbleMask) | (Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte() & highBits);
                var s2 = Avx2.Shuffle(s, Q6_KPairIndex(2)).AsInt16();
                var s3 = Avx2.Shuffle(s, Q6_KPairIndex(3)).AsInt16();
                lanes0 += SubBlockPair(l2, t0.Quants + o + 64, s2, l3, t0.Quants + o + 96, s3);
                if (T.Count > 1) lanes1 += SubBlockPair(l2, t1.Quants + o + 64, s2, l3, t1.Quants + o + 96, s3);
                if (T.Count > 2) lanes2 += SubBlockPair(l2, t2.Quants + o + 64, s2, l3, t2.Quants + o + 96, s3);
                if (T.Count > 3) lanes3 += SubBlockPair(l2, t3.Quants + o + 64, s2, l3, t3.Quants + o + 96, s3);
            }
            float dw = halfToSingle[*(ushort*)(block + 208)];
            acc0 = Q6_KBlockEnd(lanes0, dw, scales16, t0, b, acc0, ref off0);
            if (T.Count > 1) acc1 = Q6_KBlockEnd(lanes1, dw, scales16, t1, b, acc1, ref off1);
            if (T.Count > 2) acc2 = Q6_KBlockEnd(lanes2, dw, scales16, t2, b, acc2, ref off2);
            if (T.Count > 3) acc3 = Q6_KBlockEnd(lanes3, dw, scales16, t3, b, acc3, ref off3);
        }
        y[0] = Vector256.Sum(acc0) + off0;
        if (T.Count > 1) y[yStride] = Vector256.Sum(acc1) + off1;
        if (T.Count > 2) y[2 * yStride] = Vector256.Sum(acc2) + off2;
        if (T.Count > 3) y[3 * yStride] = Vector256.Sum(acc3) + off3;
    }

    /// <summary>A token's super-block total: its int32 lanes times d_w·d_a into the accumulator, and the levels'
    /// −32 offset (d·32·Σ sc_j·Σa_j) subtracted from its scalar term.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Q6_KBlockEnd(Vector256<int> lanes, float dw, Vector256<short> scales16, FusedActivations a, int b, Vector256<float> acc, ref float offsets)
    {
        float d = dw * a.BlockScales[b];
        int offsetSum = Vector256.Sum(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(a.BlockSums + b * 16)));
        offsets -= d * 32 * offsetSum;
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), Vector256.Create(d), acc);
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
