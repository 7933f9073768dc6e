namespace Camelid.Tensors.Quant;

/// <summary>
/// One token's int8 activations rearranged for <see cref="FusedDot"/>, which reads ggml weight blocks in
/// place: the levels are put in the order in which the kernel unpacks a block's weights, so that no
/// weight byte ever needs moving. Built from <see cref="QuantizedActivations"/> (same levels and scales).
/// <list type="bullet">
/// <item>Q8_0, Q6_K: natural order.</item>
/// <item>Q4_0, Q4_1: per 4 blocks (128 values), the first halves of the 4 blocks then their second halves, because
/// a byte holds weight i in its low nibble and weight i+16 in its high nibble.</item>
/// <item>Q4_K: per 256 values, sub-blocks (of 32) in the order 0 2 1 3 4 6 5 7, for the same reason.</item>
/// </list>
/// These feed the AVX-512 kernels; the AVX2 kernels take several tokens' activations at once instead
/// (<see cref="InterleavedActivations"/>).
/// </summary>
internal sealed unsafe class FusedActivations
{
    sbyte[]? _quants;
    float[]? _laneScales;
    int[]? _laneBias;
    float[]? _laneSums;
    float[]? _blockScales;
    short[]? _blockSums;

    public sbyte* Quants { get; private set; }      // (n) levels in the kernel's order
    public float* LaneScales { get; private set; }  // (n/4) Q4_0, Q8_0: scale of each int32 lane of the kernel
    public int* LaneBias { get; private set; }      // (n/4) Q4_0: -8 × the lane's sum of levels (the weights' offset), in the kernel's lane order
    public float* LaneSums { get; private set; }    // (n/4) Q4_1: scale × the lane's sum of levels, for the weights' minimum
    public float* BlockScales { get; private set; } // (n/256) K-quants: scale of each 256-value block
    public short* BlockSums { get; private set; }   // (n/32) Q4_K, (n/16) Q6_K: sum of levels per weight sub-block

    public void Prepare(GgmlType type, QuantizedActivations act, int token)
    {
        int n = act.Cols;
        sbyte* q = act.Quants(token);
        float* lanes = act.LaneScales(token);
        switch (type)
        {
            case GgmlType.Q8_0:
                Quants = q;
                LaneScales = lanes;
                break;
            case GgmlType.Q4_0:
            case GgmlType.Q4_1:
                PrepareNibbleOrder(q, lanes, n, withSums: type == GgmlType.Q4_1);
                break;
            case GgmlType.Q4_K:
                PrepareKQuant(q, lanes, n, subBlock: 32, interleavePairs: true);
                break;
            case GgmlType.Q6_K:
                PrepareKQuant(q, lanes, n, subBlock: 16, interleavePairs: false);
                break;
            default:
                throw new NotSupportedException($"{type} has no fused kernel");
        }
    }

    void PrepareNibbleOrder(sbyte* q, float* blockLanes, int n, bool withSums)
    {
        var dst = PinnedScratch.Ensure(ref _quants, n);
        var scales = PinnedScratch.Ensure(ref _laneScales, n / 4);
        var bias = PinnedScratch.Ensure(ref _laneBias, n / 4);
        var sums = withSums ? PinnedScratch.Ensure(ref _laneSums, n / 4) : null;
        for (int g = 0; g < n / 128; g++)
        {
            sbyte* src = q + g * 128;
            sbyte* firstHalves = dst + g * 128, secondHalves = firstHalves + 64;
            for (int b = 0; b < 4; b++)
                for (int i = 0; i < 16; i++)
                {
                    firstHalves[b * 16 + i] = src[b * 32 + i];
                    secondHalves[b * 16 + i] = src[b * 32 + 16 + i];
                }
            for (int k = 0; k < 16; k++)
            {
                int sum = 0;
                for (int j = 0; j < 4; j++)
                    sum += firstHalves[4 * k + j] + secondHalves[4 * k + j];
                bias[g * 16 + k] = -8 * sum;
                scales[g * 16 + k] = blockLanes[(g * 4 + k / 4) * 8]; // lane k covers block 4g + k/4
                if (sums != null)
                    sums[g * 16 + k] = scales[g * 16 + k] * sum;
            }
        }
        Quants = dst;
        LaneScales = scales;
        LaneBias = bias;
        LaneSums = sums;
    }

    void PrepareKQuant(sbyte* q, float* blockLanes, int n, int subBlock, bool interleavePairs)
    {
        var scales = PinnedScratch.Ensure(ref _blockScales, n / 256);
        var sums = PinnedScratch.Ensure(ref _blockSums, n / subBlock);
        for (int b = 0; b < n / 256; b++)
            scales[b] = blockLanes[b * 64];
        for (int s = 0; s < n / subBlock; s++)
        {
            int sum = 0;
            for (int i = 0; i < subBlock; i++)
                sum += q[s * subBlock + i];
            sums[s] = (short)sum;
        }
        if (interleavePairs)
        {
            var dst = PinnedScratch.Ensure(ref _quants, n);
            ReadOnlySpan<int> order = [0, 2, 1, 3, 4, 6, 5, 7];
            for (int b = 0; b < n / 256; b++)
                for (int slot = 0; slot < 8; slot++)
                    new ReadOnlySpan<sbyte>(q + b * 256 + order[slot] * 32, 32).CopyTo(new Span<sbyte>(dst + b * 256 + slot * 32, 32));
            Quants = dst;
        }
        else
        {
            Quants = q;
        }
        BlockScales = scales;
        BlockSums = sums;
    }
}
