using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// Causal attention for up to <see cref="Rows"/> consecutive query rows of one head at once (prefill):
/// S = q·Kᵀ·scale with the keys pre-transposed (<see cref="Microkernel"/>, as in <see cref="Gemm"/>), a masked
/// softmax per row, then O = P·V (6 rows × 64 dims), so no per-position call or horizontal sum is made.
/// Needs AVX-512F and a head size that is a multiple of 64; the per-position path serves the rest.
/// </summary>
public static unsafe class BlockedAttention
{
    public const int Rows = Microkernel.Rows;
    const int PositionBlock = Microkernel.Columns;

    public static bool IsSupported(int headSize) => Avx512F.IsSupported && Vector512.IsHardwareAccelerated && headSize % 64 == 0;

    /// <summary>Positions rounded up to the key block width, the row length of the transposed keys.</summary>
    public static int PaddedPositions(int positions) => (positions + PositionBlock - 1) / PositionBlock * PositionBlock;

    /// <summary>keysᵀ (kvDim, paddedPositions) from keys (positions, kvDim); padding is zero.</summary>
    public static void TransposeKeys(float* keys, int positions, int kvDim, float* transposed)
    {
        int padded = PaddedPositions(positions);
        for (int j = 0; j < kvDim; j++)
        {
            float* dst = transposed + (long)j * padded;
            for (int p = 0; p < positions; p++)
                dst[p] = keys[(long)p * kvDim + j];
            for (int p = positions; p < padded; p++)
                dst[p] = 0;
        }
    }

    /// <summary>
    /// Rows i &lt; <paramref name="rows"/> of q (stride <paramref name="qStride"/>) see positions
    /// [0, firstVisible + i). <paramref name="keysT"/> points at this head's headSize rows of the transposed
    /// keys (stride <paramref name="keysTStride"/>), <paramref name="values"/> at position 0 of this head's
    /// values (stride <paramref name="valueStride"/>). <paramref name="scores"/>: scratch of
    /// Rows × PaddedPositions(firstVisible + rows − 1) floats.
    /// </summary>
    public static void CausalRows(float* q, int qStride, int rows, int firstVisible, float* keysT, int keysTStride,
        float* values, int valueStride, int headSize, float scale, float* output, int outputStride, float* scores)
    {
        int visible = firstVisible + rows - 1;
        int padded = PaddedPositions(visible);
        for (int p0 = 0; p0 < visible; p0 += PositionBlock)
            Microkernel.Multiply6x32(q, qStride, rows, headSize, keysT + p0, keysTStride, scores + p0, padded, accumulate: false);
        for (int i = 0; i < rows; i++)
        {
            var row = new Span<float>(scores + (long)i * padded, padded);
            int n = firstVisible + i;
            Ops.Scale(row[..n], scale);
            Ops.Softmax(row[..n]);
            row[n..].Clear(); // future positions and padding get no weight
        }
        for (int d0 = 0; d0 < headSize; d0 += 64)
            WeightedValues6x64(scores, padded, visible, values + d0, valueStride, output + d0, outputStride, rows);
    }

    /// <summary>output_i[0..64) = Σ_p weights[i, p] · values[p][0..64) for the valid rows.</summary>
    [SkipLocalsInit]
    static void WeightedValues6x64(float* weights, int weightStride, int positions, float* values, int valueStride, float* output, int outputStride, int rows)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        float* w0 = weights, w1 = weights + weightStride, w2 = weights + 2 * weightStride;
        float* w3 = weights + 3 * weightStride, w4 = weights + 4 * weightStride, w5 = weights + 5 * weightStride;
        for (int p = 0; p < positions; p++)
        {
            float* v = values + (long)p * valueStride;
            var v0 = Vector512.Load(v); var v1 = Vector512.Load(v + 16); var v2 = Vector512.Load(v + 32); var v3 = Vector512.Load(v + 48);
            var s = Vector512.Create(w0[p]);
            a00 = Avx512F.FusedMultiplyAdd(s, v0, a00); a01 = Avx512F.FusedMultiplyAdd(s, v1, a01); a02 = Avx512F.FusedMultiplyAdd(s, v2, a02); a03 = Avx512F.FusedMultiplyAdd(s, v3, a03);
            s = Vector512.Create(w1[p]);
            a10 = Avx512F.FusedMultiplyAdd(s, v0, a10); a11 = Avx512F.FusedMultiplyAdd(s, v1, a11); a12 = Avx512F.FusedMultiplyAdd(s, v2, a12); a13 = Avx512F.FusedMultiplyAdd(s, v3, a13);
            s = Vector512.Create(w2[p]);
            a20 = Avx512F.FusedMultiplyAdd(s, v0, a20); a21 = Avx512F.FusedMultiplyAdd(s, v1, a21); a22 = Avx512F.FusedMultiplyAdd(s, v2, a22); a23 = Avx512F.FusedMultiplyAdd(s, v3, a23);
            s = Vector512.Create(w3[p]);
            a30 = Avx512F.FusedMultiplyAdd(s, v0, a30); a31 = Avx512F.FusedMultiplyAdd(s, v1, a31); a32 = Avx512F.FusedMultiplyAdd(s, v2, a32); a33 = Avx512F.FusedMultiplyAdd(s, v3, a33);
            s = Vector512.Create(w4[p]);
            a40 = Avx512F.FusedMultiplyAdd(s, v0, a40); a41 = Avx512F.FusedMultiplyAdd(s, v1, a41); a42 = Avx512F.FusedMultiplyAdd(s, v2, a42); a43 = Avx512F.FusedMultiplyAdd(s, v3, a43);
            s = Vector512.Create(w5[p]);
            a50 = Avx512F.FusedMultiplyAdd(s, v0, a50); a51 = Avx512F.FusedMultiplyAdd(s, v1, a51); a52 = Avx512F.FusedMultiplyAdd(s, v2, a52); a53 = Avx512F.FusedMultiplyAdd(s, v3, a53);
        }
        Store4(output, a00, a01, a02, a03);
        if (rows > 1) Store4(output + outputStride, a10, a11, a12, a13);
        if (rows > 2) Store4(output + 2 * outputStride, a20, a21, a22, a23);
        if (rows > 3) Store4(output + 3 * outputStride, a30, a31, a32, a33);
        if (rows > 4) Store4(output + 4 * outputStride, a40, a41, a42, a43);
        if (rows > 5) Store4(output + 5 * outputStride, a50, a51, a52, a53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store4(float* o, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        a.Store(o); b.Store(o + 16); c.Store(o + 32); d.Store(o + 48);
    }
}
