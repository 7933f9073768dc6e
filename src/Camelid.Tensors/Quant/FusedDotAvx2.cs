using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// The in-place decode kernels for CPUs with AVX2 but not AVX-512 (most desktop and many server x86 CPUs):
/// the integer bounds of the 512-bit kernels, one block (Q4_0, Q8_0), one super-block (Q4_K, its levels rearranged
/// once in registers) or one 64-weight register pair (Q6_K) per step, and up to 8 tokens of a batch taken together
/// over <see cref="InterleavedActivations"/>.
/// Weights are unpacked in registers only, so each weight byte is read once and nothing is written back, which
/// is what lets a decode step run near the memory bandwidth instead of unpacking rows through a scratch buffer.
/// The kernels are compiled fully optimized on first use (AggressiveOptimization): their unoptimized first tier runs
/// several times slower, and a server's first batch of each size would pay for it (steps of 270 ms instead of 70).
/// </summary>
internal static unsafe partial class FusedDot
{
    static bool Avx2Available => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether <see cref="MatMul"/> runs the AVX2 kernels (the activations must then be interleaved for them).</summary>
    public static bool UsesAvx2 => !Available;

    public static bool IsSupportedAvx2(GgmlType type, int cols) => Avx2Available && type switch
    {
        GgmlType.Q4_0 or GgmlType.Q8_0 => cols % 128 == 0,
        GgmlType.Q4_K or GgmlType.Q6_K => cols % 256 == 0,
        _ => false,
    };

    /// <summary>
    /// y[t·yStride] = row · token t of <paramref name="group"/>, 1 to <see cref="InterleavedActivations.MaxTokens"/>
    /// tokens: each block is unpacked once for all of them, and every token's arithmetic is exactly that of a group
    /// holding it alone (the lanes of a vector never mix), so batching unrelated sequences does not change their results.
    /// </summary>
    public static void DotInterleavedAvx2(byte* row, InterleavedActivations group, float* y, long yStride)
    {
        switch (group.Tokens)
        {
            case 1: DotInterleavedAvx2<One>(row, group, y, yStride); break;
            case 2: DotInterleavedAvx2<Two>(row, group, y, yStride); break;
            case 3: DotInterleavedAvx2<Three>(row, group, y, yStride); break;
            case 4: DotInterleavedAvx2<Four>(row, group, y, yStride); break;
            case 5: DotInterleavedAvx2<Five>(row, group, y, yStride); break;
            case 6: DotInterleavedAvx2<Six>(row, group, y, yStride); break;
            case 7: DotInterleavedAvx2<Seven>(row, group, y, yStride); break;
            default: DotInterleavedAvx2<Eight>(row, group, y, yStride); break;
        }
    }

    [SkipLocalsInit]
    static void DotInterleavedAvx2<T>(byte* row, InterleavedActivations group, float* y, long yStride) where T : struct, ITokenCount
    {
        // Q6_K's accumulators and pair scales, more than the registers hold beside its levels; allocated here because
        // a kernel with stackalloc of its own runs slower (its frame setup and register use).
        var spill = stackalloc Vector256<float>[InterleavedActivations.MaxTokens + 4];
        switch (group.Type)
        {
            case GgmlType.Q4_0: DotQ4_0Avx2<T>(row, group, y, yStride); break;
            case GgmlType.Q8_0: DotQ8_0Avx2<T>(row, group.Chunks, group.Quants, group.Scales, y, yStride); break;
            case GgmlType.Q4_K: DotQ4_KAvx2<T>(row, group.Chunks / 8, group.Quants, group.Scales, group.SubBlockSums, y, yStride); break;
            case GgmlType.Q6_K: DotQ6_KAvx2<T>(row, group.Chunks / 8, group.Quants, group.Scales, group.SubBlockSums, spill, y, yStride); break;
            default: throw new NotSupportedException($"{group.Type} has no AVX2 kernel");
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
    /// (0..15) times the activations in 8 int32 lanes, times d_w·d_a, into its accumulator. The levels' −8
    /// offset comes once per row at the end, from the row's scales and the tokens' block sums.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotQ4_0Avx2<T>(byte* row, InterleavedActivations group, float* y, long yStride) where T : struct, ITokenCount
    {
        int blocks = group.Chunks;
        sbyte* quants = group.Quants;
        float* scales = group.Scales;
        float* dw = stackalloc float[blocks];
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var nibbleMask = Vector128.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        byte* block = row;
        sbyte* q = quants;
        for (int b = 0; b < blocks; b++, block += Q4_0Bytes, q += 32 * T.Count, scales += InterleavedActivations.ScalesPerGroup)
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
        // The levels' −8 offset, once per row: −8·Σ_b d_w·(d_a·Σa) over the blocks.
        for (int t = 0; t < T.Count; t++)
            y[t * yStride] -= 8 * DotOfScales(dw, group.GroupSums + t * blocks, blocks);
    }

    /// <summary>One block (34 bytes, 32 weights) per step; signed weights through |w| and a·sign(w).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotQ8_0Avx2<T>(byte* row, int blocks, sbyte* quants, float* scales, float* y, long yStride) where T : struct, ITokenCount
    {
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var ones = Vector256.Create((short)1);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        byte* block = row;
        sbyte* q = quants;
        for (int b = 0; b < blocks; b++, block += Q8_0Bytes, q += 32 * T.Count, scales += InterleavedActivations.ScalesPerGroup)
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
    /// Q4_K, one super-block (144 bytes, 256 weights) per step: w = d·sc_j·q − dmin·m_j for sub-block j of 32.
    /// The levels are rearranged once per super-block for all tokens (<see cref="ArrangeQ4_K"/>) so that int16 word
    /// j of every 128-bit lane holds sub-block j in all eight registers: a token's eight level × activation products
    /// then add up as int16 (16 products a word, at most 16·15·127, no overflow) and one vpmaddwd applies all eight
    /// scales, nine multiplies per token for 256 weights (this CPU class issues one a cycle, so they set the pace).
    /// Each token's eight int32 lanes are summed exactly per super-block (<see cref="InTokenOrder{T}"/>), so all tokens
    /// share one conversion and one FMA per super-block, as the minimums meet the tokens' sub-block sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotQ4_KAvx2<T>(byte* row, int superBlocks, sbyte* quants, float* scales, short* sums, float* y, long yStride) where T : struct, ITokenCount
    {
        if (T.Count == 1)
        {
            y[0] = DotQ4_KOneToken(row, superBlocks, quants, scales, sums);
            return;
        }
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var totals = Vector256<float>.Zero; // token t in lane t
        var minimums = Vector256<float>.Zero;
        byte* block = row;
        sbyte* q = quants;
        for (int b = 0; b < superBlocks; b++, block += Q4_KBytes, q += 256 * T.Count, scales += InterleavedActivations.ScalesPerGroup, sums += 64)
        {
            var levels = ArrangedQ4_K(block, out var scaleWords, out var mins);
            float dw = halfToSingle[*(ushort*)block], dminw = halfToSingle[*(ushort*)(block + 2)];
            var tokens = InOrder(Vector256.Load(scales), Vector256.Load(scales + 8));
            totals = Fma.MultiplyAdd(Avx.ConvertToVector256Single(SuperBlockSums<T>(levels, q, scaleWords)), Vector256.Create(dw) * tokens, totals);
            // Σ_j m_j·Σa_j of every token, exact in int32: register k holds tokens k and k+4, so two rounds of
            // pairwise sums leave tokens 0..7 in order.
            var mins2 = Vector256.Create(mins);
            var minSums = Avx2.HorizontalAdd(
                Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(mins2, Vector256.Load(sums)), Avx2.MultiplyAddAdjacent(mins2, Vector256.Load(sums + 16))),
                Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(mins2, Vector256.Load(sums + 32)), Avx2.MultiplyAddAdjacent(mins2, Vector256.Load(sums + 48))));
            minimums -= Vector256.Create(dminw) * tokens * Avx.ConvertToVector256Single(minSums);
        }
        StoreLanes<T>(totals + minimums, y, yStride);
    }

    /// <summary>
    /// <see cref="DotQ4_KAvx2{T}"/> for one token, rounding exactly as its lane there: the same exact int32 sums per
    /// super-block, then the same float steps in scalar form. The sums of two super-blocks and their minimum terms
    /// share one horizontal-add tree, so a lone token pays about as little for them as a lane-wise FMA would.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float DotQ4_KOneToken(byte* row, int superBlocks, sbyte* q, float* scales, short* sums)
    {
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        float total = 0, minimum = 0;
        byte* block = row;
        for (int b = 0; b < superBlocks; b += 2, block += 2 * Q4_KBytes, q += 512, scales += 2 * InterleavedActivations.ScalesPerGroup, sums += 128)
        {
            var levels = ArrangedQ4_K(block, out var scaleWords, out var mins);
            var lanes = SuperBlockLanes(levels, q, 32, scaleWords);
            var minLanes = Sse2.MultiplyAddAdjacent(mins, Vector128.Load(sums));
            var nextLanes = Vector256<int>.Zero;
            var nextMinLanes = Vector128<int>.Zero;
            bool pair = b + 1 < superBlocks;
            if (pair)
            {
                levels = ArrangedQ4_K(block + Q4_KBytes, out scaleWords, out mins);
                nextLanes = SuperBlockLanes(levels, q + 256, 32, scaleWords);
                nextMinLanes = Sse2.MultiplyAddAdjacent(mins, Vector128.Load(sums + 64));
            }
            // [this, next, this minimum, next minimum] in both halves' low and high parts, then added.
            var tree = Avx2.HorizontalAdd(Avx2.HorizontalAdd(lanes, nextLanes), Avx2.HorizontalAdd(Vector256.Create(minLanes, Vector128<int>.Zero), Vector256.Create(nextMinLanes, Vector128<int>.Zero)));
            var sumsOfBoth = Sse2.ConvertToVector128Single(tree.GetLower() + tree.GetUpper());
            total = MathF.FusedMultiplyAdd(sumsOfBoth.GetElement(0), halfToSingle[*(ushort*)block] * scales[0], total);
            minimum -= halfToSingle[*(ushort*)(block + 2)] * scales[0] * sumsOfBoth.GetElement(2);
            if (pair)
            {
                total = MathF.FusedMultiplyAdd(sumsOfBoth.GetElement(1), halfToSingle[*(ushort*)(block + Q4_KBytes)] * scales[InterleavedActivations.ScalesPerGroup], total);
                minimum -= halfToSingle[*(ushort*)(block + Q4_KBytes + 2)] * scales[InterleavedActivations.ScalesPerGroup] * sumsOfBoth.GetElement(3);
            }
        }
        return total + minimum;
    }

    /// <summary>A Q4_K super-block's levels arranged for the tokens (<see cref="ArrangeQ4_K"/>), with its sub-blocks'
    /// scales as int16 words j of both 128-bit lanes (as the arranged levels hold them) and its minimums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Q4_KRegisters ArrangedQ4_K(byte* block, out Vector256<short> scaleWords, out Vector128<short> mins)
    {
        Prefetch(block, 3);
        UnpackQ4_KScales(block + 4, out ulong scaleBytes, out ulong minBytes);
        scaleWords = Vector256.Create(Vector128.WidenLower(Vector128.CreateScalar(scaleBytes).AsByte()).AsInt16());
        mins = Vector128.WidenLower(Vector128.CreateScalar(minBytes).AsByte()).AsInt16();
        // The 32 bytes of nibbles at 16 + 32c hold sub-blocks 2c (low nibbles) and 2c+1 (high).
        var nibbleMask = Vector256.Create((byte)0x0F);
        var qs0 = Vector256.Load(block + 16);
        var qs1 = Vector256.Load(block + 48);
        var qs2 = Vector256.Load(block + 80);
        var qs3 = Vector256.Load(block + 112);
        return ArrangeQ4_K(
            qs0 & nibbleMask, Vector256.ShiftRightLogical(qs0.AsUInt16(), 4).AsByte() & nibbleMask,
            qs1 & nibbleMask, Vector256.ShiftRightLogical(qs1.AsUInt16(), 4).AsByte() & nibbleMask,
            qs2 & nibbleMask, Vector256.ShiftRightLogical(qs2.AsUInt16(), 4).AsByte() & nibbleMask,
            qs3 & nibbleMask, Vector256.ShiftRightLogical(qs3.AsUInt16(), 4).AsByte() & nibbleMask);
    }

    /// <summary>One token's products with a super-block, eight int32 lanes: its activations' register k sits at
    /// q + k·stride. The eight registers' products add up as int16, and one vpmaddwd applies the sub-block scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> SuperBlockLanes(in Q4_KRegisters levels, sbyte* q, int stride, Vector256<short> scaleWords)
    {
        var products = Avx2.MultiplyAddAdjacent(levels.R0, Vector256.Load(q)) + Avx2.MultiplyAddAdjacent(levels.R1, Vector256.Load(q + stride))
            + (Avx2.MultiplyAddAdjacent(levels.R2, Vector256.Load(q + 2 * stride)) + Avx2.MultiplyAddAdjacent(levels.R3, Vector256.Load(q + 3 * stride)))
            + (Avx2.MultiplyAddAdjacent(levels.R4, Vector256.Load(q + 4 * stride)) + Avx2.MultiplyAddAdjacent(levels.R5, Vector256.Load(q + 5 * stride))
            + (Avx2.MultiplyAddAdjacent(levels.R6, Vector256.Load(q + 6 * stride)) + Avx2.MultiplyAddAdjacent(levels.R7, Vector256.Load(q + 7 * stride))));
        return Avx2.MultiplyAddAdjacent(products, scaleWords);
    }

    /// <summary>Every token's super-block sum in its int32 lane (token t's register k at q + 32·(k·T + t)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> SuperBlockSums<T>(in Q4_KRegisters levels, sbyte* q, Vector256<short> scaleWords) where T : struct, ITokenCount
    {
        int stride = 32 * T.Count;
        var zero = Vector256<int>.Zero;
        return InTokenOrder<T>(
            Avx2.HorizontalAdd(SuperBlockLanes(levels, q, stride, scaleWords), SuperBlockLanes(levels, q + 32, stride, scaleWords)),
            T.Count > 2 ? Avx2.HorizontalAdd(SuperBlockLanes(levels, q + 64, stride, scaleWords), T.Count > 3 ? SuperBlockLanes(levels, q + 96, stride, scaleWords) : zero) : zero,
            T.Count > 4 ? Avx2.HorizontalAdd(SuperBlockLanes(levels, q + 128, stride, scaleWords), T.Count > 5 ? SuperBlockLanes(levels, q + 160, stride, scaleWords) : zero) : zero,
            T.Count > 6 ? Avx2.HorizontalAdd(SuperBlockLanes(levels, q + 192, stride, scaleWords), T.Count > 7 ? SuperBlockLanes(levels, q + 224, stride, scaleWords) : zero) : zero);
    }

    /// <summary>
    /// Tokens 0..7's sums of eight int32 lanes each, token t in lane t, from the pairwise horizontal adds of tokens
    /// (0, 1), (2, 3), (4, 5) and (6, 7): one more round leaves tokens 0..3 and 4..7 in the low and high 128-bit
    /// lanes' halves, and one swap adds the halves. Shuffle-port work, where a conversion and FMA per token would
    /// queue with the multiplies.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> InTokenOrder<T>(Vector256<int> pair01, Vector256<int> pair23, Vector256<int> pair45, Vector256<int> pair67) where T : struct, ITokenCount
    {
        var tokens0123 = Avx2.HorizontalAdd(pair01, pair23);
        if (T.Count <= 4)
            return tokens0123 + Avx2.Permute2x128(tokens0123, tokens0123, 0x01);
        var tokens4567 = Avx2.HorizontalAdd(pair45, pair67);
        return Avx2.Permute2x128(tokens0123, tokens4567, 0x20) + Avx2.Permute2x128(tokens0123, tokens4567, 0x31);
    }

    /// <summary>A Q4_K super-block's eight registers of levels, or a token's activations laid out to meet them.</summary>
    internal struct Q4_KRegisters
    {
        public Vector256<byte> R0, R1, R2, R3, R4, R5, R6, R7;
    }

    /// <summary>
    /// Sub-blocks 0..7 of a Q4_K super-block (32 levels each, in order) rearranged so that int16 word j of each
    /// 128-bit lane of every output register holds two levels of sub-block j: each pair of sub-blocks (2c, 2c+1) is
    /// interleaved word by word, which makes dword k of a lane hold words k of both, and a 4 × 4 transpose of
    /// dwords then gathers pair c into dword c. Only in-lane unpacks, eight per four registers.
    /// <see cref="InterleavedActivations"/> rearranges each token's activations with this same function.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Q4_KRegisters ArrangeQ4_K(Vector256<byte> s0, Vector256<byte> s1, Vector256<byte> s2, Vector256<byte> s3,
        Vector256<byte> s4, Vector256<byte> s5, Vector256<byte> s6, Vector256<byte> s7)
    {
        var (r0, r1, r2, r3) = TransposeDwords(Avx2.UnpackLow(s0.AsInt16(), s1.AsInt16()), Avx2.UnpackLow(s2.AsInt16(), s3.AsInt16()),
            Avx2.UnpackLow(s4.AsInt16(), s5.AsInt16()), Avx2.UnpackLow(s6.AsInt16(), s7.AsInt16()));
        var (r4, r5, r6, r7) = TransposeDwords(Avx2.UnpackHigh(s0.AsInt16(), s1.AsInt16()), Avx2.UnpackHigh(s2.AsInt16(), s3.AsInt16()),
            Avx2.UnpackHigh(s4.AsInt16(), s5.AsInt16()), Avx2.UnpackHigh(s6.AsInt16(), s7.AsInt16()));
        return new Q4_KRegisters { R0 = r0, R1 = r1, R2 = r2, R3 = r3, R4 = r4, R5 = r5, R6 = r6, R7 = r7 };
    }

    /// <summary>In each 128-bit lane, dword j of output i is dword i of input j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) TransposeDwords(Vector256<short> a, Vector256<short> b, Vector256<short> c, Vector256<short> d)
    {
        var ab01 = Avx2.UnpackLow(a.AsInt32(), b.AsInt32()).AsInt64();
        var ab23 = Avx2.UnpackHigh(a.AsInt32(), b.AsInt32()).AsInt64();
        var cd01 = Avx2.UnpackLow(c.AsInt32(), d.AsInt32()).AsInt64();
        var cd23 = Avx2.UnpackHigh(c.AsInt32(), d.AsInt32()).AsInt64();
        return (Avx2.UnpackLow(ab01, cd01).AsByte(), Avx2.UnpackHigh(ab01, cd01).AsByte(), Avx2.UnpackLow(ab23, cd23).AsByte(), Avx2.UnpackHigh(ab23, cd23).AsByte());
    }

    /// <summary>Two sub-blocks of one token in natural order: levels × activations summed in pairs, times each
    /// sub-block's scale and summed in pairs again (vpmaddwd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> SeparatePair(Vector256<byte> low, sbyte* lowQ, Vector256<short> lowScale, Vector256<byte> high, sbyte* highQ, Vector256<short> highScale) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, Vector256.Load(lowQ)), lowScale)
        + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(high, Vector256.Load(highQ)), highScale);

    /// <summary>
    /// Two registers of levels a and b rearranged so that every int16 word of both holds levels of one of them,
    /// a in the even words and b in the odd: word j of <c>first</c> is a's word j (even j) or b's (odd j), word j
    /// of <c>second</c> is a's word j+1 (even j) or b's word j−1 (odd j). Every even word then sums levels of a only
    /// and every odd word levels of b only, and int32 lane k of <see cref="InterleavedPair"/> sums a[4k..4k+3] and
    /// b[4k..4k+3] (bytes), exactly as with the registers apart. <see cref="InterleavedActivations"/> rearranges
    /// several tokens' activations with this same function.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<byte> First, Vector256<byte> Second) Interleave(Vector256<byte> a, Vector256<byte> b) =>
        (Avx2.Blend(a.AsInt16(), b.AsInt16(), 0xAA).AsByte(), Avx2.Shuffle(Avx2.Blend(b.AsInt16(), a.AsInt16(), 0xAA).AsByte(), SwapAdjacentWords));

    /// <summary>Two registers of one token, their words interleaved (see <see cref="Interleave"/>): levels ×
    /// activations summed in fours, then each word times its sub-block's scale and summed in pairs (vpmaddwd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> InterleavedPair(Vector256<byte> first, sbyte* firstQ, Vector256<byte> second, sbyte* secondQ, Vector256<short> pairScale) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(first, Vector256.Load(firstQ)) + Avx2.MultiplyAddAdjacent(second, Vector256.Load(secondQ)), pairScale);

    /// <summary>Each token's super-block total: its int32 lanes times d_w·d_a (d0123 holds tokens 0..3 in both
    /// 128-bit lanes, d4567 tokens 4..7) into its accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ScaleInto<T>(Vector256<float>* acc, Vector256<float> d0123, Vector256<float> d4567, Vector256<int> l0, Vector256<int> l1, Vector256<int> l2,
        Vector256<int> l3, Vector256<int> l4, Vector256<int> l5, Vector256<int> l6, Vector256<int> l7) where T : struct, ITokenCount
    {
        acc[0] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l0), Avx.Permute(d0123, 0x00), acc[0]);
        if (T.Count > 1) acc[1] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l1), Avx.Permute(d0123, 0x55), acc[1]);
        if (T.Count > 2) acc[2] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l2), Avx.Permute(d0123, 0xAA), acc[2]);
        if (T.Count > 3) acc[3] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l3), Avx.Permute(d0123, 0xFF), acc[3]);
        if (T.Count > 4) acc[4] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l4), Avx.Permute(d4567, 0x00), acc[4]);
        if (T.Count > 5) acc[5] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l5), Avx.Permute(d4567, 0x55), acc[5]);
        if (T.Count > 6) acc[6] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l6), Avx.Permute(d4567, 0xAA), acc[6]);
        if (T.Count > 7) acc[7] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l7), Avx.Permute(d4567, 0xFF), acc[7]);
    }

    /// <summary>Tokens 0..7 in order from the two halves of <see cref="InterleavedActivations.Scales"/>'s layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> InOrder(Vector256<float> tokens0123, Vector256<float> tokens4567) => Avx.Blend(tokens0123, tokens4567, 0xF0);

    /// <summary>y for each token: its accumulator's lanes summed, plus its lane of the scalar terms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTotals<T>(Vector256<float>* acc, Vector256<float> scalarTerms, float* y, long yStride) where T : struct, ITokenCount
    {
        for (int t = 0; t < T.Count; t++)
            y[t * yStride] = Vector256.Sum(acc[t]) + scalarTerms.GetElement(t);
    }

    /// <summary>y for each token: its lane of <paramref name="results"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreLanes<T>(Vector256<float> results, float* y, long yStride) where T : struct, ITokenCount
    {
        for (int t = 0; t < T.Count; t++)
            y[t * yStride] = results.GetElement(t);
    }

    /// <summary>Swaps the two words of every dword.</summary>
    static readonly Vector256<byte> SwapAdjacentWords = Vector256.Create(Enumerable.Range(0, 32).Select(i => (byte)(i ^ 2)).ToArray());

    /// <summary>
    /// Q6_K, one super-block (210 bytes, 256 weights) per step: w = d·sc_j·(q − 32) for sub-block j of 16. Each
    /// 32-byte register of 6-bit levels spans two sub-blocks, whose signed scales (spread per 128-bit lane by one
    /// byte shuffle) multiply the pair sums in vpmaddwd; the −32 offset meets the tokens' sub-block sums. Several
    /// tokens take two registers together (<see cref="InterleavedPair"/>): 6-bit levels leave room in an int16 word
    /// for the products of two registers only, so the eight-register arrangement of Q4_K does not apply.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotQ6_KAvx2<T>(byte* row, int superBlocks, sbyte* quants, float* scales, short* sums, Vector256<float>* spill, float* y, long yStride) where T : struct, ITokenCount
    {
        var nibbleMask = Vector256.Create((byte)0x0F);
        var highBits = Vector256.Create((byte)0x30);
        float* halfToSingle = HalfPrecision.SingleOfHalfBits;
        var acc = spill;
        var pairScales = (Vector256<short>*)(spill + InterleavedActivations.MaxTokens);
        for (int t = 0; T.Count > 1 && t < T.Count; t++) // one token accumulates in acc0
            acc[t] = Vector256<float>.Zero;
        var offsets = Vector256<float>.Zero;
        float offset0 = 0;
        var acc0 = Vector256<float>.Zero; // one token's accumulator stays in a register
        byte* block = row;
        sbyte* q = quants;
        for (int b = 0; b < superBlocks; b++, block += Q6_KBytes, q += 256 * T.Count, scales += InterleavedActivations.ScalesPerGroup, sums += 128)
        {
            Prefetch(block, 4);
            var scales16 = Vector256.WidenLower(Vector256.Create(Vector128.Load((sbyte*)block + 192), Vector128<sbyte>.Zero)); // 16 × int16
            // Both 128-bit lanes hold the 8 scales of a half, so an in-lane shuffle can pick any of them.
            var firstHalf = Vector256.Create(scales16.GetLower()).AsByte();
            var secondHalf = Vector256.Create(scales16.GetUpper()).AsByte();
            if (T.Count > 4) // beside 8 tokens' sums the scales no longer fit the registers
            {
                pairScales[0] = Avx2.Shuffle(firstHalf, Q6_KPairScales[0]).AsInt16();
                pairScales[1] = Avx2.Shuffle(firstHalf, Q6_KPairScales[1]).AsInt16();
                pairScales[2] = Avx2.Shuffle(secondHalf, Q6_KPairScales[0]).AsInt16();
                pairScales[3] = Avx2.Shuffle(secondHalf, Q6_KPairScales[1]).AsInt16();
            }
            Vector256<int> l0 = default, l1 = default, l2 = default, l3 = default, l4 = default, l5 = default, l6 = default, l7 = default;
            for (int half = 0; half < 2; half++)
            {
                var ql0 = Vector256.Load(block + 64 * half);
                var ql1 = Vector256.Load(block + 64 * half + 32);
                var qh = Vector256.Load(block + 128 + 32 * half);
                // The half's four registers of levels, in natural order, 32 each (chunks 4·half .. 4·half+3).
                var r0 = (ql0 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 4).AsByte() & highBits);
                var r1 = (ql1 & nibbleMask) | (Vector256.ShiftLeft(qh.AsUInt16(), 2).AsByte() & highBits);
                var r2 = (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & nibbleMask) | (qh & highBits);
                var r3 = (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & nibbleMask) | (Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte() & highBits);
                var halfScales = half == 0 ? firstHalf : secondHalf;
                sbyte* c0 = q + 128 * T.Count * half, c1 = c0 + 32 * T.Count, c2 = c1 + 32 * T.Count, c3 = c2 + 32 * T.Count;
                if (T.Count == 1)
                {
                    // Constant arguments: Q6_KPairIndex of a variable would build its vector byte by byte.
                    l0 += SeparatePair(r0, c0, Avx2.Shuffle(halfScales, Q6_KPairIndex(0)).AsInt16(), r1, c1, Avx2.Shuffle(halfScales, Q6_KPairIndex(1)).AsInt16())
                        + SeparatePair(r2, c2, Avx2.Shuffle(halfScales, Q6_KPairIndex(2)).AsInt16(), r3, c3, Avx2.Shuffle(halfScales, Q6_KPairIndex(3)).AsInt16());
                    continue;
                }
                for (int pair = 0; pair < 2; pair++) // registers (r0, r1), then (r2, r3)
                {
                    var (first, second) = pair == 0 ? Interleave(r0, r1) : Interleave(r2, r3);
                    sbyte* firstQ = pair == 0 ? c0 : c2, secondQ = firstQ + 32 * T.Count;
                    var pairScale = T.Count > 4 ? pairScales[2 * half + pair] : Avx2.Shuffle(halfScales, Q6_KPairScales[pair]).AsInt16();
                    l0 += InterleavedPair(first, firstQ, second, secondQ, pairScale);
                    l1 += InterleavedPair(first, firstQ + 32, second, secondQ + 32, pairScale);
                    if (T.Count > 2) l2 += InterleavedPair(first, firstQ + 64, second, secondQ + 64, pairScale);
                    if (T.Count > 3) l3 += InterleavedPair(first, firstQ + 96, second, secondQ + 96, pairScale);
                    if (T.Count > 4) l4 += InterleavedPair(first, firstQ + 128, second, secondQ + 128, pairScale);
                    if (T.Count > 5) l5 += InterleavedPair(first, firstQ + 160, second, secondQ + 160, pairScale);
                    if (T.Count > 6) l6 += InterleavedPair(first, firstQ + 192, second, secondQ + 192, pairScale);
                    if (T.Count > 7) l7 += InterleavedPair(first, firstQ + 224, second, secondQ + 224, pairScale);
                }
            }
            float dw = halfToSingle[*(ushort*)(block + 208)];
            if (T.Count == 1)
            {
                float d = dw * scales[0];
                offset0 -= d * 32 * Vector256.Sum(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums)));
                acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(l0), Vector256.Create(d), acc0);
                continue;
            }
            var d0123 = Vector256.Create(dw) * Vector256.Load(scales);
            var d4567 = Vector256.Create(dw) * Vector256.Load(scales + 8);
            ScaleInto<T>(acc, d0123, d4567, l0, l1, l2, l3, l4, l5, l6, l7);
            offsets -= InOrder(d0123, d4567) * Vector256.Create(32f) * Avx.ConvertToVector256Single(Q6_KOffsetSums(scales16, sums));
        }
        if (T.Count == 1)
            y[0] = Vector256.Sum(acc0) + offset0;
        else
            StoreTotals<T>(acc, offsets, y, yStride);
    }

    /// <summary>Σ_j sc_j·Σa_j of tokens 0..7 in order, exact in int32: register t holds token t's 16 sub-block sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Q6_KOffsetSums(Vector256<short> scales16, short* sums)
    {
        return InTokenOrder<Eight>(
            Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums)), Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 16))),
            Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 32)), Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 48))),
            Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 64)), Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 80))),
            Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 96)), Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(sums + 112))));
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

    /// <summary>In-lane byte shuffles for the registers (r2p, r2p+1) of a Q6_K half, taken together: register k
    /// covers sub-blocks 2k (low 128-bit lane) and 2k+1 (high lane), and its words are the even ones, so even
    /// words take the scale of sub-block 4p + lane and odd words that of 4p + 2 + lane.</summary>
    static readonly Vector256<byte>[] Q6_KPairScales = Enumerable.Range(0, 2).Select(p =>
    {
        var index = new byte[32];
        for (int i = 0; i < 32; i++)
            index[i] = (byte)(2 * (4 * p + i / 16 + 2 * (i >> 1 & 1)) + (i & 1));
        return Vector256.Create(index);
    }).ToArray();
}
