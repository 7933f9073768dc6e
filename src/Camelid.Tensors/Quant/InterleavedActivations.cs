namespace Camelid.Tensors.Quant;

/// <summary>
/// The int8 activations of 1 to <see cref="MaxTokens"/> tokens for the AVX2 Q4_0 and Q8_0 kernels
/// (<see cref="FusedDot.DotInterleavedAvx2"/>), interleaved block by block: the tokens' 32 levels of block b
/// sit side by side, as do their scales, so a kernel reaches every token of a block at a constant offset from
/// one pointer and keeps no pointer per token. Same levels and scales as <see cref="QuantizedActivations"/>.
/// </summary>
internal sealed unsafe class InterleavedActivations
{
    /// <summary>One accumulator per token beside the unpacked block fits the 16 ymm registers.</summary>
    public const int MaxTokens = 8;

    sbyte[]? _quants;
    float[]? _scales;

    public int Tokens { get; private set; }
    public int Blocks { get; private set; }
    public sbyte* Quants { get; private set; }  // (blocks, tokens, 32) levels
    public float* Scales { get; private set; }  // (blocks, 16): tokens 0..3 twice, then 4..7 twice (absent tokens 0), see ScaleSlot
    public float* GroupSums { get; private set; } // (tokens, blocks): scale × the block's sum of levels, read in place from the QuantizedActivations

    /// <summary>Takes tokens [first, first + count) of <paramref name="act"/>, quantized for <paramref name="type"/> weights.</summary>
    public void Prepare(GgmlType type, QuantizedActivations act, int first, int count)
    {
        if (type is not (GgmlType.Q4_0 or GgmlType.Q8_0))
            throw new NotSupportedException($"{type} rows do not use interleaved activations");
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxTokens);
        int blocks = act.Cols / 32;
        Tokens = count;
        Blocks = blocks;
        Quants = PinnedScratch.Ensure(ref _quants, (long)act.Cols * count);
        Scales = PinnedScratch.Ensure(ref _scales, (long)blocks * ScalesPerBlock);
        new Span<float>(Scales, blocks * ScalesPerBlock).Clear();
        GroupSums = act.GroupSums(first); // one group per block: Q4_0 and Q8_0 weights have 32 per scale
        for (int t = 0; t < count; t++)
        {
            sbyte* q = act.Quants(first + t);
            float* lanes = act.LaneScales(first + t);
            for (int b = 0; b < blocks; b++)
            {
                new ReadOnlySpan<sbyte>(q + 32 * b, 32).CopyTo(new Span<sbyte>(Quants + ((long)b * count + t) * 32, 32));
                float scale = lanes[8 * b];
                Scales[b * ScalesPerBlock + ScaleSlot(t)] = scale;
                Scales[b * ScalesPerBlock + ScaleSlot(t) + 4] = scale;
            }
        }
    }

    public const int ScalesPerBlock = 16;

    /// <summary>Where token t's scale of a block sits (and again 4 floats later): each 8-float half holds 4 tokens
    /// in both 128-bit lanes, so an in-lane permute broadcasts one token's product with the weight scale.</summary>
    static int ScaleSlot(int t) => t < 4 ? t : 4 + t;
}
