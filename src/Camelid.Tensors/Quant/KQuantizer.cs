using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// The K-quant reference quantizers of ggml-quants.c without an importance matrix:
/// <c>quantize_row_q4_K_ref</c> / <c>q5_K_ref</c> (sub-block scale and min fitted by
/// <c>make_qkx2_quants</c>, then both quantized to 6 bits against fp16 super-scales),
/// <c>quantize_row_q6_K_ref</c> (sub-block scales by <c>make_qx_quants</c> with rmse_type 1, quantized
/// to int8) and <c>quantize_row_q8_K_ref</c>. Arithmetic is float32 in ggml's order so the bytes match.
/// </summary>
public static class KQuantizer
{
    const float GroupMaxEps = 1e-15f;

    /// <summary>ggml's <c>nearest_int</c>: adding 1.5·2²³ leaves round-half-even(f) in the low mantissa
    /// bits. Valid for |f| ≤ 4194303.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float f)
    {
        float val = f + 12582912f;
        return (BitConverter.SingleToInt32Bits(val) & 0x007fffff) - 0x00400000;
    }

    internal static void Q4_K(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeQ4OrQ5K(src, dst, nmax: 15);

    internal static void Q5_K(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeQ4OrQ5K(src, dst, nmax: 31);

    static void QuantizeQ4OrQ5K(ReadOnlySpan<float> src, Span<byte> dst, int nmax)
    {
        bool five = nmax == 31;
        int blockBytes = five ? Q5_KBytes : Q4_KBytes;
        // Q4_K and Q5_K differ only in the level count and the search range of make_qkx2_quants.
        float rmin = five ? -0.5f : -1f;
        int nstep = five ? 15 : 20;
        Span<byte> L = stackalloc byte[256];
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];

        for (int b = 0; b < src.Length / 256; b++)
        {
            var x = src.Slice(b * 256, 256);
            var blk = dst.Slice(b * blockBytes, blockBytes);
            blk.Clear();
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                var xs = x.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
                scales[j] = MakeQkx2Quants(nmax, xs, weights, L.Slice(32 * j, 32), out mins[j], laux, rmin, 0.1f, nstep);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }

            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            var packed = blk.Slice(KScales, 12);
            for (int j = 0; j < 8; j++)
            {
                // ggml stores nearest_int into a uint8_t before clamping, hence the byte casts.
                int ls = Math.Min(63, (int)(byte)NearestInt(invScale * scales[j]));
                int lm = Math.Min(63, (int)(byte)NearestInt(invMin * mins[j]));
                if (j < 4)
                {
                    packed[j] = (byte)ls;
                    packed[j + 4] = (byte)lm;
                }
                else
                {
                    packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    packed[j - 4] |= (byte)((ls >> 4) << 6);
                    packed[j] |= (byte)((lm >> 4) << 6);
                }
            }
            WriteHalf(blk, 0, maxScale / 63f);
            WriteHalf(blk, 2, maxMin / 63f);

            // Re-quantize every value against the scales as stored.
            float dStored = ReadHalf(blk, 0), dminStored = ReadHalf(blk, 2);
            for (int j = 0; j < 8; j++)
            {
                ScaleMinK4(j, packed, out int sc, out int m);
                float d = dStored * sc;
                if (d == 0) continue;
                float dm = dminStored * m;
                for (int ii = 0; ii < 32; ii++)
                    L[32 * j + ii] = (byte)Math.Clamp(NearestInt((x[32 * j + ii] + dm) / d), 0, nmax);
            }

            if (!five)
            {
                var q = blk.Slice(KQs4, 128);
                for (int c = 0; c < 4; c++)
                    for (int l = 0; l < 32; l++)
                        q[32 * c + l] = (byte)(L[64 * c + l] | (L[64 * c + l + 32] << 4));
            }
            else
            {
                var qh = blk.Slice(KQh5, 32);
                var ql = blk.Slice(KQs5, 128);
                for (int c = 0; c < 4; c++)
                {
                    int m1 = 1 << (2 * c), m2 = 2 << (2 * c);
                    for (int l = 0; l < 32; l++)
                    {
                        int l1 = L[64 * c + l], l2 = L[64 * c + l + 32];
                        if (l1 > 15) { l1 -= 16; qh[l] |= (byte)m1; }
                        if (l2 > 15) { l2 -= 16; qh[l] |= (byte)m2; }
                        ql[32 * c + l] = (byte)(l1 | (l2 << 4));
                    }
                }
            }
        }
    }

    /// <summary>
    /// ggml <c>make_qkx2_quants</c> (use_mad = false): fits x ≈ scale·L − theMin with L in [0, nmax],
    /// trying the plain min/max fit and <paramref name="nstep"/>+1 alternative scales, each refined by a
    /// weighted least-squares solve for scale and min; keeps the lowest weighted squared error.
    /// </summary>
    static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> L,
        out float theMin, Span<byte> laux, float rmin, float rdelta, int nstep)
    {
        int n = x.Length;
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            L[..n].Clear();
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            diff *= diff;
            bestError += weights[i] * diff;
        }
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Max(0, Math.Min(nmax, NearestInt(iscale * (x[i] - min))));
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    diff *= diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError)
                {
                    laux[..n].CopyTo(L);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    internal static void Q6_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (int b = 0; b < src.Length / 256; b++)
        {
            var x = src.Slice(b * 256, 256);
            var blk = dst.Slice(b * Q6_KBytes, Q6_KBytes);
            blk.Clear();
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = MakeQxQuants(32, x.Slice(16 * ib, 16), L.Slice(16 * ib, 16));
                scales[ib] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GroupMaxEps)
                continue; // all-zero block: d = 0, every byte 0

            float iscale = -128f / maxScale;
            WriteHalf(blk, Q6D, 1 / iscale);
            for (int ib = 0; ib < 16; ib++)
                blk[Q6Scales + ib] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));

            float dStored = ReadHalf(blk, Q6D);
            for (int j = 0; j < 16; j++)
            {
                float d = dStored * (sbyte)blk[Q6Scales + j];
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++)
                    L[16 * j + ii] = (sbyte)(Math.Clamp(NearestInt(x[16 * j + ii] / d), -32, 31) + 32);
            }

            for (int h = 0; h < 2; h++)
            {
                var ql = blk.Slice(Q6Ql + 64 * h, 64);
                var qh = blk.Slice(Q6Qh + 32 * h, 32);
                var Lh = L.Slice(128 * h, 128);
                for (int l = 0; l < 32; l++)
                {
                    int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
                    ql[l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                    ql[l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                    qh[l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
        }
    }

    /// <summary>
    /// ggml <c>make_qx_quants</c> with rmse_type 1 and no importance weights: symmetric levels in
    /// [-nmax, nmax-1] (stored +nmax), weights x², the scale refined by least squares over 18 trial
    /// scales around nmax/max.
    /// </summary>
    static float MakeQxQuants(int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            L[..n].Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
            L[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0.0f;
        float best = scale * sumLX;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumLX = sumL2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
                float w = x[i] * x[i];
                sumLX += w * x[i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2)
            {
                for (int i = 0; i < n; i++)
                    L[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i]))));
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /// <summary>Q8_K: one fp32 scale per 256 values, levels in [-127, 127], and the sum of every 16 levels.</summary>
    internal static void Q8_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int b = 0; b < src.Length / 256; b++)
        {
            var x = src.Slice(b * 256, 256);
            var blk = dst.Slice(b * Q8_KBytes, Q8_KBytes);
            blk.Clear(); // ggml leaves bsums of an all-zero block unwritten; we zero them
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            if (amax == 0)
                continue;
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++)
                blk[Q8KQs + j] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * x[j]));
            for (int g = 0; g < 16; g++)
            {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++)
                    sum += (sbyte)blk[Q8KQs + 16 * g + ii];
                BinaryPrimitives.WriteInt16LittleEndian(blk[(Q8KBsums + 2 * g)..], (short)sum);
            }
            BinaryPrimitives.WriteSingleLittleEndian(blk, 1 / iscale);
        }
    }
}
