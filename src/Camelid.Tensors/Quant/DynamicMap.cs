using System.Runtime.CompilerServices;

namespace Camelid.Tensors.Quant;

/// <summary>
/// bitsandbytes' signed 8-bit dynamic data type (<c>create_dynamic_map(signed=True)</c>, after Dettmers
/// 2015, "8-Bit Approximations for Parallelism in Deep Learning"), which QLoRA's double quantization uses
/// for the per-block absmax values. For exponent e = 0..6 it holds ±10^(e−6) times the 2^e midpoints of
/// <c>linspace(0.1, 1, 2^e + 1)</c>, plus 0 and 1: 127 negative values, 0, 127 positive values, 1.
/// </summary>
/// <remarks>
/// The values are a table rather than the formula because bitsandbytes builds them with float32
/// <c>torch.linspace</c>, whose last bit depends on the torch build (vectorised chunks and fused
/// multiply-adds in torch 1.13's x86-64 kernel); these are the values that build produces, checked against
/// tests/fixtures/quant/nf4/dynamic_map.f32. A bitsandbytes checkpoint stores its own copy of the map
/// (<c>nested_quant_map</c>), which may differ from this one in the last bit of a few entries.
/// </remarks>
public static class DynamicMap
{
    static readonly float[] SignedTable =
    [
        -0.99296874f, -0.9789062f, -0.96484375f, -0.9507812f, -0.9367187f, -0.92265624f, -0.9085938f, -0.89453125f,
        -0.8804687f, -0.8664062f, -0.85234374f, -0.8382812f, -0.82421875f, -0.8101562f, -0.7960937f, -0.78203124f,
        -0.7679688f, -0.75390625f, -0.7398438f, -0.72578126f, -0.7117188f, -0.6976563f, -0.68359375f, -0.6695313f,
        -0.65546876f, -0.64140624f, -0.6273438f, -0.61328125f, -0.5992187f, -0.58515626f, -0.5710938f, -0.5570313f,
        -0.54296875f, -0.5289062f, -0.51484376f, -0.50078124f, -0.48671877f, -0.47265625f, -0.45859373f, -0.44453126f,
        -0.43046874f, -0.4164062f, -0.40234375f, -0.38828123f, -0.37421876f, -0.36015624f, -0.3460937f, -0.33203125f,
        -0.31796873f, -0.30390626f, -0.28984374f, -0.27578127f, -0.26171875f, -0.24765626f, -0.23359376f, -0.21953125f,
        -0.20546874f, -0.19140625f, -0.17734374f, -0.16328125f, -0.14921875f, -0.13515624f, -0.12109375f, -0.107031256f,
        -0.09859375f, -0.095781244f, -0.092968754f, -0.09015625f, -0.08734375f, -0.08453125f, -0.08171874f, -0.07890625f,
        -0.07609375f, -0.07328125f, -0.070468746f, -0.067656256f, -0.06484375f, -0.062031247f, -0.059218753f, -0.05640625f,
        -0.05359375f, -0.05078125f, -0.04796875f, -0.04515625f, -0.042343747f, -0.03953125f, -0.036718752f, -0.033906247f,
        -0.03109375f, -0.028281247f, -0.02546875f, -0.02265625f, -0.01984375f, -0.01703125f, -0.01421875f, -0.01140625f,
        -0.00971875f, -0.009156249f, -0.00859375f, -0.00803125f, -0.00746875f, -0.00690625f, -0.00634375f, -0.00578125f,
        -0.0052187503f, -0.0046562497f, -0.00409375f, -0.0035312497f, -0.00296875f, -0.00240625f, -0.00184375f, -0.0012812499f,
        -0.0009437501f, -0.00083125f, -0.00071875006f, -0.0006062501f, -0.00049375003f, -0.00038125002f, -0.00026875004f, -0.00015625001f,
        -8.875e-05f, -6.625e-05f, -4.375e-05f, -2.1249998e-05f, -7.75e-06f, -3.2500002e-06f, -5.5000004e-07f, 0f,
        5.5000004e-07f, 3.2500002e-06f, 7.75e-06f, 2.1249998e-05f, 4.375e-05f, 6.625e-05f, 8.875e-05f, 0.00015625001f,
        0.00026875004f, 0.00038125002f, 0.00049375003f, 0.0006062501f, 0.00071875006f, 0.00083125f, 0.0009437501f, 0.0012812499f,
        0.00184375f, 0.00240625f, 0.00296875f, 0.0035312497f, 0.00409375f, 0.0046562497f, 0.0052187503f, 0.00578125f,
        0.00634375f, 0.00690625f, 0.00746875f, 0.00803125f, 0.00859375f, 0.009156249f, 0.00971875f, 0.01140625f,
        0.01421875f, 0.01703125f, 0.01984375f, 0.02265625f, 0.02546875f, 0.028281247f, 0.03109375f, 0.033906247f,
        0.036718752f, 0.03953125f, 0.042343747f, 0.04515625f, 0.04796875f, 0.05078125f, 0.05359375f, 0.05640625f,
        0.059218753f, 0.062031247f, 0.06484375f, 0.067656256f, 0.070468746f, 0.07328125f, 0.07609375f, 0.07890625f,
        0.08171874f, 0.08453125f, 0.08734375f, 0.09015625f, 0.092968754f, 0.095781244f, 0.09859375f, 0.107031256f,
        0.12109375f, 0.13515624f, 0.14921875f, 0.16328125f, 0.17734374f, 0.19140625f, 0.20546874f, 0.21953125f,
        0.23359376f, 0.24765626f, 0.26171875f, 0.27578127f, 0.28984374f, 0.30390626f, 0.31796873f, 0.33203125f,
        0.3460937f, 0.36015624f, 0.37421876f, 0.38828123f, 0.40234375f, 0.4164062f, 0.43046874f, 0.44453126f,
        0.45859373f, 0.47265625f, 0.48671877f, 0.50078124f, 0.51484376f, 0.5289062f, 0.54296875f, 0.5570313f,
        0.5710938f, 0.58515626f, 0.5992187f, 0.61328125f, 0.6273438f, 0.64140624f, 0.65546876f, 0.6695313f,
        0.68359375f, 0.6976563f, 0.7117188f, 0.72578126f, 0.7398438f, 0.75390625f, 0.7679688f, 0.78203124f,
        0.7960937f, 0.8101562f, 0.82421875f, 0.8382812f, 0.85234374f, 0.8664062f, 0.8804687f, 0.89453125f,
        0.9085938f, 0.92265624f, 0.9367187f, 0.9507812f, 0.96484375f, 0.9789062f, 0.99296874f, 1f,
    ];

    /// <summary>The 256 values, sorted ascending; index 127 is 0 and index 255 is 1.</summary>
    public static ReadOnlySpan<float> Signed => SignedTable;

    /// <summary>
    /// The index of the map value nearest to <paramref name="scaled"/> (a value divided by its block's
    /// absmax), decided exactly as bitsandbytes' <c>dQuantize&lt;0&gt;</c> does: seven halving steps from
    /// index 127 that compare only with odd-indexed entries and land on an even index p, then p±1 is taken
    /// if <paramref name="scaled"/> lies beyond the float32 midpoint between it and p. A value on a midpoint
    /// keeps p; NaN keeps going down and ends at 0.
    /// </summary>
    public static int Encode(float scaled)
    {
        ReadOnlySpan<float> map = SignedTable;
        int pivot = 127, below = 0, above = 255;
        for (int step = 64; step > 0; step >>= 1)
        {
            if (scaled > map[pivot]) { below = pivot; pivot += step; }
            else { above = pivot; pivot -= step; }
        }
        float landed = map[pivot];
        if (scaled > landed)
            return scaled > Midpoint(map[above], landed) ? above : pivot;
        return scaled < Midpoint(map[below], landed) ? below : pivot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Midpoint(float a, float b) => (a + b) * 0.5f;
}
