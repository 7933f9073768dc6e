using System.Runtime.Intrinsics;

namespace Camelid.Tensors.Quant;

/// <summary>
/// The int8 activations of 1 to <see cref="MaxTokens"/> tokens for the AVX2 decode kernels
/// (<see cref="FusedDot.DotInterleavedAvx2"/>), interleaved 32 levels at a time: the tokens' levels of chunk c
/// (values 32c..32c+31) sit side by side, as do their scales, so a kernel reaches every token of a chunk at a
/// constant offset from one pointer and keeps no pointer per token. Same levels and scales as
/// <see cref="QuantizedActivations"/>; the K-quants' sub-block sums come along laid out for their kernels.
/// </summary>
internal sealed unsafe class InterleavedActivations
{
    /// <summary>One accumulator per token beside the unpacked weights fits the 16 ymm registers.</summary>
    public const int MaxTokens = 8;

    sbyte[]? _quants;
    float[]? _scales;
    short[]? _subBlockSums;

    public GgmlType Type { get; private set; }
    public int Tokens { get; private set; }
    public int Chunks { get; private set; }       // of 32 values: Q4_0 and Q8_0 blocks, two Q6_K sub-blocks, one Q4_K sub-block
    public sbyte* Quants { get; private set; }    // (chunks, tokens, 32) levels; Q4_K's rearranged per super-block (ArrangeQ4_KSuperBlock), Q6_K's for several tokens in pairs of chunks (InterleaveChunkPair)
    public float* Scales { get; private set; }    // (scale groups, 16): tokens 0..3 twice, then 4..7 twice (absent tokens 0), see ScaleSlot
    public float* GroupSums { get; private set; } // Q4_0 (tokens, chunks): scale × the block's sum of levels, read in place from the QuantizedActivations

    /// <summary>
    /// K-quants, per super-block of 256 values, the sums of each token's levels over the weight sub-blocks, as the
    /// kernels' 256-bit registers take them: Q4_K (8 sub-blocks of 32) holds tokens t and t+4 in register t,
    /// Q6_K (16 sub-blocks of 16) token t in register t; absent tokens are 0.
    /// </summary>
    public short* SubBlockSums { get; private set; }

    /// <summary>Takes tokens [first, first + count) of <paramref name="act"/>, quantized for <paramref name="type"/> weights.</summary>
    public void Prepare(GgmlType type, QuantizedActivations act, int first, int count)
    {
        if (type is not (GgmlType.Q4_0 or GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q6_K))
            throw new NotSupportedException($"{type} rows do not use interleaved activations");
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxTokens);
        bool kQuant = type is GgmlType.Q4_K or GgmlType.Q6_K;
        int cols = act.Cols, chunks = cols / 32, scaleBlock = kQuant ? 256 : 32, groups = cols / scaleBlock;
        Type = type;
        Tokens = count;
        Chunks = chunks;
        Quants = PinnedScratch.Ensure(ref _quants, (long)cols * count);
        Scales = PinnedScratch.Ensure(ref _scales, (long)groups * ScalesPerGroup);
        new Span<float>(Scales, groups * ScalesPerGroup).Clear();
        GroupSums = type == GgmlType.Q4_0 ? act.GroupSums(first) : null; // one group per block: Q4_0 has 32 weights per scale
        for (int t = 0; t < count; t++)
        {
            sbyte* q = act.Quants(first + t);
            float* lanes = act.LaneScales(first + t);
            if (type == GgmlType.Q4_K)
                for (int c = 0; c < chunks; c += 8)
                    ArrangeQ4_KSuperBlock(q + 32 * c, Quants + (long)c * count * 32 + 32 * t, count);
            else if (type == GgmlType.Q6_K && count > 1) // one token keeps natural order: pairing costs it more shuffles than it saves
                for (int c = 0; c < chunks; c += 2)
                    InterleaveChunkPair(q + 32 * c, Quants + ((long)c * count + t) * 32, Quants + ((long)(c + 1) * count + t) * 32);
            else
                for (int c = 0; c < chunks; c++)
                    new ReadOnlySpan<sbyte>(q + 32 * c, 32).CopyTo(new Span<sbyte>(Quants + ((long)c * count + t) * 32, 32));
            for (int g = 0; g < groups; g++)
            {
                float scale = lanes[scaleBlock / 4 * g];
                Scales[g * ScalesPerGroup + ScaleSlot(t)] = scale;
                Scales[g * ScalesPerGroup + ScaleSlot(t) + 4] = scale;
            }
        }
        SubBlockSums = kQuant ? PrepareSubBlockSums(act, first, count, subBlock: type == GgmlType.Q4_K ? 32 : 16) : null;
    }

    short* PrepareSubBlockSums(QuantizedActivations act, int first, int count, int subBlock)
    {
        int perSuperBlock = 256 / subBlock, superBlocks = act.Cols / 256, stride = MaxTokens * perSuperBlock;
        var sums = PinnedScratch.Ensure(ref _subBlockSums, (long)superBlocks * stride);
        new Span<short>(sums, superBlocks * stride).Clear();
        for (int t = 0; t < count; t++)
        {
            sbyte* q = act.Quants(first + t);
            // Q4_K: token t in the low 128-bit lane of register t % 4 if t < 4, the high lane if not; Q6_K: register t.
            int at = subBlock == 32 ? 16 * (t % 4) + 8 * (t / 4) : 16 * t;
            for (int b = 0; b < superBlocks; b++)
                for (int j = 0; j < perSuperBlock; j++)
                    sums[b * stride + at + j] = (short)QuantizedActivations.SumOfLevels(new ReadOnlySpan<sbyte>(q + 256 * b + subBlock * j, subBlock)); // ≤ 32·127
        }
        return sums;
    }

    /// <summary>
    /// One token's 256 levels of a Q4_K super-block rearranged exactly as the kernel rearranges the weights
    /// (<see cref="FusedDot.ArrangeQ4_K"/>), register k stored at <paramref name="target"/> + 32·k·<paramref name="tokens"/>
    /// (the other tokens' registers k in between).
    /// </summary>
    static void ArrangeQ4_KSuperBlock(sbyte* levels, sbyte* target, int tokens)
    {
        var l = (byte*)levels;
        var arranged = FusedDot.ArrangeQ4_K(Vector256.Load(l), Vector256.Load(l + 32), Vector256.Load(l + 64), Vector256.Load(l + 96),
            Vector256.Load(l + 128), Vector256.Load(l + 160), Vector256.Load(l + 192), Vector256.Load(l + 224));
        long next = 32L * tokens;
        var t = (byte*)target;
        arranged.R0.Store(t);
        arranged.R1.Store(t + next);
        arranged.R2.Store(t + 2 * next);
        arranged.R3.Store(t + 3 * next);
        arranged.R4.Store(t + 4 * next);
        arranged.R5.Store(t + 5 * next);
        arranged.R6.Store(t + 6 * next);
        arranged.R7.Store(t + 7 * next);
    }

    /// <summary>
    /// Two chunks (32 levels at <paramref name="levels"/>, then the next 32) rearranged exactly as the Q6_K kernel
    /// rearranges the two registers of weights it pairs for several tokens (<see cref="FusedDot.Interleave"/>), so each
    /// int16 word meets the weights of the same positions.
    /// </summary>
    static void InterleaveChunkPair(sbyte* levels, sbyte* first, sbyte* second)
    {
        var (a, b) = FusedDot.Interleave(Vector256.Load((byte*)levels), Vector256.Load((byte*)levels + 32));
        a.Store((byte*)first);
        b.Store((byte*)second);
    }

    public const int ScalesPerGroup = 16;

    /// <summary>Where token t's scale of a group sits (and again 4 floats later): each 8-float half holds 4 tokens
    /// in both 128-bit lanes, so an in-lane permute broadcasts one token's product with the weight scale, and a
    /// blend of the two halves gives all 8 tokens in order.</summary>
    static int ScaleSlot(int t) => t < 4 ? t : 4 + t;
}
