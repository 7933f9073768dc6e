using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Camelid.Tensors.Quant;

/// <summary>
/// Dot products of a quantized weight row with quantized activations, in integers.
/// With weights w = laneScale·u + bias (see <see cref="WeightUnpacker"/>) and activations x ≈ d·a
/// (see <see cref="QuantizedActivations"/>):
/// <c>Σ w·x ≈ Σ_k wLane[k]·aLane[k]·(Σ_{i in lane k} u_i·a_i) + Σ_g bias[g]·(d_g·Σ_{i in g} a_i)</c>.
/// The inner sums of 4 products are what vpmaddubsw + vpmaddwd (or vpdpbusd) produce per int32 lane, so
/// the kernel scales each lane once and needs a single horizontal sum per row.
/// Its scalar twin is <see cref="Reference.ReferenceQuantDot.DotLanes"/>.
/// </summary>
public static unsafe class QuantDot
{
    /// <summary>Weights per scale/bias group: 16 for Q6_K, 32 for the others.</summary>
    public static int WeightGroupSize(GgmlType type) => type == GgmlType.Q6_K ? 16 : 32;

    /// <summary>Values per activation scale: Q8_0 blocks (32) for legacy weights, Q8_K blocks (256) for K-quants.</summary>
    public static int ActivationBlockSize(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K ? 256 : 32;

    public static bool HasIntegerDot(GgmlType type) => type is GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0
        or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    [ThreadStatic] static QuantizedActivations? t_activations;
    [ThreadStatic] static byte[]? t_u;
    [ThreadStatic] static float[]? t_lanes, t_bias;

    /// <summary>Σ W·x for one quantized row and fp32 <paramref name="x"/>, through the same activation
    /// quantization and integer kernel as <see cref="Kernels.MatMul"/>. Thread-static scratch, no allocation in steady state.</summary>
    public static float Dot(GgmlType type, ReadOnlySpan<byte> weightRow, ReadOnlySpan<float> x)
    {
        if (!HasIntegerDot(type))
            throw new NotSupportedException($"{type} has no integer dot product");
        int n = x.Length;
        var act = t_activations ??= new QuantizedActivations();
        act.Quantize(type, x, 1, n);
        byte* u = PinnedScratch.Ensure(ref t_u, n);
        float* lanes = PinnedScratch.Ensure(ref t_lanes, n / 4);
        float* bias = PinnedScratch.Ensure(ref t_bias, n / WeightGroupSize(type));
        WeightUnpacker.UnpackRow(type, weightRow, new Span<byte>(u, n), new Span<float>(lanes, n / 4), new Span<float>(bias, n / act.GroupSize));
        return DotRow(type == GgmlType.Q8_0, u, lanes, bias, act.Quants(0), act.LaneScales(0), act.GroupSums(0), n, act.GroupSize);
    }

    /// <summary>One unpacked weight row · one token's quantized activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float DotRow(bool signedWeights, byte* u, float* wLanes, float* bias, sbyte* a, float* aLanes, float* aGroupSums, int n, int groupSize)
    {
        float lanes = signedWeights ? DotLanes<SignedWeights>(u, a, wLanes, aLanes, n) : DotLanes<UnsignedWeights>(u, a, wLanes, aLanes, n);
        return lanes + ShortDot(bias, aGroupSums, n / groupSize);
    }

    /// <summary>Dot of two short vectors (one value per weight group): inlined, because the call overhead
    /// of a general-purpose Dot is larger than the work here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float ShortDot(float* x, float* y, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
                acc += Vector256.Load(x + i) * Vector256.Load(y + i);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
            sum += x[i] * y[i];
        return sum;
    }

    internal interface IWeightSign { static abstract bool IsSigned { get; } }
    internal struct SignedWeights : IWeightSign { public static bool IsSigned => true; }
    internal struct UnsignedWeights : IWeightSign { public static bool IsSigned => false; }

    /// <summary>Σ_k wLanes[k]·aLanes[k]·Σ_{j&lt;4} u[4k+j]·a[4k+j]; n is a multiple of 32.
    /// Unsigned u must be ≤ 128 and a in [-127, 127] so the 16-bit pair sums of vpmaddubsw cannot saturate;
    /// signed u go through |u| and a·sign(u).</summary>
    internal static float DotLanes<TSign>(byte* u, sbyte* a, float* wLanes, float* aLanes, int n) where TSign : struct, IWeightSign
    {
        int i = 0;
        float sum = 0;
        if (Avx512BW.IsSupported && n >= 64)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            var ones = Vector512.Create((short)1);
            for (; i + 128 <= n; i += 128)
            {
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Lanes512<TSign>(u + i, a + i, ones)),
                    Vector512.Load(wLanes + i / 4) * Vector512.Load(aLanes + i / 4), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Lanes512<TSign>(u + i + 64, a + i + 64, ones)),
                    Vector512.Load(wLanes + i / 4 + 16) * Vector512.Load(aLanes + i / 4 + 16), acc1);
            }
            for (; i + 64 <= n; i += 64)
            {
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Lanes512<TSign>(u + i, a + i, ones)),
                    Vector512.Load(wLanes + i / 4) * Vector512.Load(aLanes + i / 4), acc0);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        if (Avx2.IsSupported && i + 32 <= n)
        {
            var acc = Vector256<float>.Zero;
            var ones = Vector256.Create((short)1);
            for (; i + 32 <= n; i += 32)
            {
                var lanes = Avx.ConvertToVector256Single(Lanes256<TSign>(u + i, a + i, ones));
                acc = Fma.IsSupported
                    ? Fma.MultiplyAdd(lanes, Vector256.Load(wLanes + i / 4) * Vector256.Load(aLanes + i / 4), acc)
                    : acc + lanes * (Vector256.Load(wLanes + i / 4) * Vector256.Load(aLanes + i / 4));
            }
            sum += Vector256.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            // Portable: 16 weights always share one group scale (groups are 16 or 32, aligned).
            for (; i + 16 <= n; i += 16)
            {
                var av = Vector128.Load(a + i);
                (var a0, var a1) = Vector128.Widen(av);
                Vector128<short> u0, u1;
                if (TSign.IsSigned)
                    (u0, u1) = Vector128.Widen(Vector128.Load((sbyte*)u + i));
                else
                {
                    (var w0, var w1) = Vector128.Widen(Vector128.Load(u + i));
                    (u0, u1) = (w0.AsInt16(), w1.AsInt16());
                }
                (var p0, var p1) = Vector128.Widen(u0 * a0);
                (var p2, var p3) = Vector128.Widen(u1 * a1);
                int s = Vector128.Sum(p0 + p1 + p2 + p3);
                sum += s * wLanes[i / 4] * aLanes[i / 4];
            }
        }
        for (; i < n; i += 4)
        {
            int s = 0;
            for (int j = 0; j < 4; j++)
                s += (TSign.IsSigned ? (sbyte)u[i + j] : u[i + j]) * a[i + j];
            sum += s * wLanes[i / 4] * aLanes[i / 4];
        }
        return sum;
    }

    /// <summary>16 int32 lanes, each the sum of 4 adjacent products u·a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Lanes512<TSign>(byte* u, sbyte* a, Vector512<short> ones) where TSign : struct, IWeightSign
    {
        var uv = Vector512.Load(u);
        var av = Vector512.Load(a);
        if (TSign.IsSigned)
        {
            var negative = Vector512.LessThan(uv.AsSByte(), Vector512<sbyte>.Zero);
            av = (av ^ negative) - negative;
            uv = Avx512BW.Abs(uv.AsSByte());
        }
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uv, av), ones);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Lanes256<TSign>(byte* u, sbyte* a, Vector256<short> ones) where TSign : struct, IWeightSign
    {
        var uv = Vector256.Load(u);
        var av = Vector256.Load(a);
        if (TSign.IsSigned)
        {
            av = Avx2.Sign(av, uv.AsSByte());
            uv = Avx2.Abs(uv.AsSByte());
        }
        if (AvxVnni.IsSupported)
            return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, uv, av);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uv, av), ones);
    }
}
