using System.Runtime.Intrinsics;

namespace Camelid.Tensors.Quant;

/// <summary>
/// fp32 activations (tokens, cols) quantized to int8 for the integer dot products of
/// <see cref="QuantDot"/>, in a layout made for SIMD rather than ggml's block structs:
/// <list type="bullet">
/// <item><c>Quants</c> (tokens, cols) int8 levels in [-127, 127];</item>
/// <item><c>LaneScales</c> (tokens, cols/4): the scale of the block holding elements 4k..4k+3, so a kernel
/// can scale the int32 sum of each group of 4 products without a horizontal reduction;</item>
/// <item><c>GroupSums</c> (tokens, cols/G): scale × sum of the levels of each weight group of G elements,
/// for the weight types whose value is scale·q + bias.</item>
/// </list>
/// Levels follow ggml's Q8_0 for the legacy weight types (32 values per scale, d = amax/127, d kept in
/// fp32 rather than fp16) and Q8_K for the K-quants (256 per scale, iscale = -127/max); both round half to
/// even (see RoundToLevels). Not byte-compatible with ggml's activation blocks, and need not be.
/// </summary>
public sealed unsafe class QuantizedActivations
{
    sbyte[]? _quants;
    float[]? _laneScales;
    float[]? _groupSums;

    public int Tokens { get; private set; }
    public int Cols { get; private set; }
    public int GroupSize { get; private set; }
    public GgmlType WeightType { get; private set; }

    internal sbyte* Quants(int token) => _quantsPtr + (long)token * Cols;
    internal float* LaneScales(int token) => _lanesPtr + (long)token * (Cols / 4);
    internal float* GroupSums(int token) => _sumsPtr + (long)token * (Cols / GroupSize);

    sbyte* _quantsPtr;
    float* _lanesPtr;
    float* _sumsPtr;

    /// <summary>Quantizes x (tokens, cols) for a dot product with rows of <paramref name="weightType"/>.</summary>
    public void Quantize(GgmlType weightType, ReadOnlySpan<float> x, int tokens, int cols)
    {
        int group = QuantDot.WeightGroupSize(weightType);
        int block = QuantDot.ActivationBlockSize(weightType);
        if (cols % block != 0)
            throw new ArgumentException($"{weightType} rows need a multiple of {block} columns, got {cols}");
        if (x.Length < (long)tokens * cols)
            throw new ArgumentException($"activations hold {x.Length} values, {tokens} tokens of {cols} need {(long)tokens * cols}");
        Tokens = tokens;
        Cols = cols;
        GroupSize = group;
        WeightType = weightType;
        _quantsPtr = PinnedScratch.Ensure(ref _quants, (long)tokens * cols);
        _lanesPtr = PinnedScratch.Ensure(ref _laneScales, (long)tokens * cols / 4);
        _sumsPtr = PinnedScratch.Ensure(ref _groupSums, (long)tokens * cols / group);
        for (int t = 0; t < tokens; t++)
        {
            var xt = x.Slice(t * cols, cols);
            var q = new Span<sbyte>(Quants(t), cols);
            var lanes = new Span<float>(LaneScales(t), cols / 4);
            var sums = new Span<float>(GroupSums(t), cols / group);
            if (block == 32)
                QuantizeQ8_0(xt, q, lanes);
            else
                QuantizeQ8_K(xt, q, lanes);
            for (int g = 0; g < sums.Length; g++)
                sums[g] = lanes[g * group / 4] * SumOfLevels(q.Slice(g * group, group));
        }
    }

    static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<sbyte> q, Span<float> lanes)
    {
        for (int b = 0; b < x.Length / 32; b++)
        {
            var xb = x.Slice(32 * b, 32);
            float amax = MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(xb));
            if (!float.IsFinite(amax))
                throw new ArgumentException($"activation block {b} holds a non-finite value ({amax}); cannot quantize it");
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            RoundToLevels(xb, id, q.Slice(32 * b, 32));
            lanes.Slice(8 * b, 8).Fill(d);
        }
    }

    /// <summary>q = round(x·scale), clamped to [-127, 127]. Rounds half to even (the vector unit's mode);
    /// ggml's Q8_0 uses roundf (half away from zero). The two differ only on exact .5 ties, which moves an
    /// activation by one level at most as often as a tie occurs and is within the stated error bound.</summary>
    static void RoundToLevels(ReadOnlySpan<float> x, float scale, Span<sbyte> q)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            var lo = Vector256.Create(-127f);
            var hi = Vector256.Create(127f);
            for (; i + 32 <= x.Length; i += 32)
            {
                var i0 = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(x.Slice(i, 8)) * s), lo, hi));
                var i1 = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(x.Slice(i + 8, 8)) * s), lo, hi));
                var i2 = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(x.Slice(i + 16, 8)) * s), lo, hi));
                var i3 = Vector256.ConvertToInt32(Vector256.Clamp(Vector256.Round(Vector256.Create(x.Slice(i + 24, 8)) * s), lo, hi));
                Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).CopyTo(q[i..]);
            }
        }
        for (; i < x.Length; i++)
            q[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * scale), -127, 127);
    }

    internal static int SumOfLevels(ReadOnlySpan<sbyte> q)
    {
        if (Vector128.IsHardwareAccelerated && q.Length % 16 == 0)
        {
            int total = 0;
            for (int i = 0; i < q.Length; i += 16)
            {
                (var a, var b) = Vector128.Widen(Vector128.Create(q.Slice(i, 16)));
                total += Vector128.Sum(a + b);
            }
            return total;
        }
        int s = 0;
        foreach (sbyte v in q) s += v;
        return s;
    }

    static void QuantizeQ8_K(ReadOnlySpan<float> x, Span<sbyte> q, Span<float> lanes)
    {
        for (int b = 0; b < x.Length / 256; b++)
        {
            var xb = x.Slice(256 * b, 256);
            float max = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(xb);
            if (!float.IsFinite(max))
                throw new ArgumentException($"activation block {b} holds a non-finite value ({max}); cannot quantize it");
            if (max == 0)
            {
                q.Slice(256 * b, 256).Clear();
                lanes.Slice(64 * b, 64).Clear();
                continue;
            }
            float iscale = -127f / max;
            RoundToLevels(xb, iscale, q.Slice(256 * b, 256));
            lanes.Slice(64 * b, 64).Fill(1 / iscale);
        }
    }
}
