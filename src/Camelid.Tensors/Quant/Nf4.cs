using System.Runtime.CompilerServices;

namespace Camelid.Tensors.Quant;

/// <summary>
/// The 4-bit NormalFloat data type of QLoRA (Dettmers et al. 2023, eq. 4 and appendix E): 16 values,
/// 8 positive and 7 negative quantiles of N(0, 1) plus an exact zero, scaled to [−1, 1]. The float32
/// values are the ones bitsandbytes' kernels hold (<c>nf4_dequantization_lut</c>); the paper's
/// construction reproduces them to within 2e-7 (checked by tools/make_nf4_fixtures.py).
/// </summary>
public static class Nf4
{
    static readonly float[] CodeTable =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    // bitsandbytes' dQuantizeNF4 decides with a tree of float literals, the midpoints of adjacent codes
    // printed to 16 digits and rounded once to float32 by the compiler (as C# rounds these). Four of them
    // (0, 8, 12, 14) are one ulp off the float32 rounding of the exact midpoint, which is a tie there, so
    // they are kept as written rather than derived. A value on a threshold takes the lower code.
    static readonly float[] Thresholds = // (15)
    [
        -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
        -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
        0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
        0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f,
    ];

    /// <summary>The 16 code values, index = the 4-bit code.</summary>
    public static ReadOnlySpan<float> Code => CodeTable;

    /// <summary>The 15 decision thresholds: code i+1 is chosen for x &gt; threshold i.</summary>
    public static ReadOnlySpan<float> DecisionThresholds => Thresholds;

    /// <summary>
    /// The 4-bit code of a value already divided by its block's absmax: the number of thresholds strictly
    /// below <paramref name="scaled"/>, as bitsandbytes' four-comparison tree finds it. NaN (an all-zero
    /// block scaled by 1/0) fails every comparison and gets code 0, as on the GPU.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Encode(float scaled)
    {
        ReadOnlySpan<float> t = Thresholds;
        int index = scaled > t[7] ? 8 : 0;
        index += scaled > t[index + 3] ? 4 : 0;
        index += scaled > t[index + 1] ? 2 : 0;
        index += scaled > t[index] ? 1 : 0;
        return index;
    }
}
