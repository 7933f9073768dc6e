using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// The register-blocked product shared by <see cref="Gemm"/> and <see cref="BlockedAttention"/>:
/// c (6, 32) (+)= a (6, k) · b (k, 32). Per step of k: 2 loads of b, 6 broadcast values of a, 12 FMAs into
/// 12 accumulators that stay in registers for the whole loop. With AVX-512F one pass covers the 32 columns;
/// with AVX2 + FMA (16 registers of 8 floats) two passes of 16 columns do, with the same register pattern.
/// </summary>
internal static unsafe class Microkernel
{
    public const int Rows = 6;
    public const int Columns = 32;

    /// <param name="a">row i at a + i·aStride; rows at or past <paramref name="validRows"/> repeat the last
    /// valid row (their results are computed but meaningless), so no memory past the rows is read</param>
    /// <param name="b">row j (32 floats) at b + j·bStride</param>
    /// <param name="c">row i (32 floats) at c + i·cStride; loaded first when <paramref name="accumulate"/></param>
    /// <param name="validColumns">columns of b and c that matter: with AVX2, 16 or fewer skip the second pass
    /// (columns 16..31 of c are then left as they were)</param>
    public static bool IsSupported => (Avx512F.IsSupported && Vector512.IsHardwareAccelerated) || (Avx2.IsSupported && Fma.IsSupported);

    public static void Multiply6x32(float* a, int aStride, int validRows, int k, float* b, int bStride, float* c, int cStride, bool accumulate, int validColumns = Columns)
    {
        if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            Multiply6x16(a, aStride, validRows, k, b, bStride, c, cStride, accumulate);
            if (validColumns > 16)
                Multiply6x16(a, aStride, validRows, k, b + 16, bStride, c + 16, cStride, accumulate);
            return;
        }
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + cStride); c11 = Vector512.Load(c + cStride + 16);
            c20 = Vector512.Load(c + 2 * cStride); c21 = Vector512.Load(c + 2 * cStride + 16);
            c30 = Vector512.Load(c + 3 * cStride); c31 = Vector512.Load(c + 3 * cStride + 16);
            c40 = Vector512.Load(c + 4 * cStride); c41 = Vector512.Load(c + 4 * cStride + 16);
            c50 = Vector512.Load(c + 5 * cStride); c51 = Vector512.Load(c + 5 * cStride + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector512<float>.Zero;
        }
        int last = validRows - 1;
        float* a0 = a, a1 = a + Math.Min(1, last) * aStride, a2 = a + Math.Min(2, last) * aStride;
        float* a3 = a + Math.Min(3, last) * aStride, a4 = a + Math.Min(4, last) * aStride, a5 = a + Math.Min(5, last) * aStride;
        for (int j = 0; j < k; j++)
        {
            float* bj = b + (long)j * bStride;
            var b0 = Vector512.Load(bj);
            var b1 = Vector512.Load(bj + 16);
            var s = Vector512.Create(a0[j]); c00 = Avx512F.FusedMultiplyAdd(s, b0, c00); c01 = Avx512F.FusedMultiplyAdd(s, b1, c01);
            s = Vector512.Create(a1[j]); c10 = Avx512F.FusedMultiplyAdd(s, b0, c10); c11 = Avx512F.FusedMultiplyAdd(s, b1, c11);
            s = Vector512.Create(a2[j]); c20 = Avx512F.FusedMultiplyAdd(s, b0, c20); c21 = Avx512F.FusedMultiplyAdd(s, b1, c21);
            s = Vector512.Create(a3[j]); c30 = Avx512F.FusedMultiplyAdd(s, b0, c30); c31 = Avx512F.FusedMultiplyAdd(s, b1, c31);
            s = Vector512.Create(a4[j]); c40 = Avx512F.FusedMultiplyAdd(s, b0, c40); c41 = Avx512F.FusedMultiplyAdd(s, b1, c41);
            s = Vector512.Create(a5[j]); c50 = Avx512F.FusedMultiplyAdd(s, b0, c50); c51 = Avx512F.FusedMultiplyAdd(s, b1, c51);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + cStride); c11.Store(c + cStride + 16);
        c20.Store(c + 2 * cStride); c21.Store(c + 2 * cStride + 16);
        c30.Store(c + 3 * cStride); c31.Store(c + 3 * cStride + 16);
        c40.Store(c + 4 * cStride); c41.Store(c + 4 * cStride + 16);
        c50.Store(c + 5 * cStride); c51.Store(c + 5 * cStride + 16);
    }

    /// <summary>The AVX2 half: c (6, 16) (+)= a (6, k) · b (k, 16), 12 accumulators of 8 floats.</summary>
    static void Multiply6x16(float* a, int aStride, int validRows, int k, float* b, int bStride, float* c, int cStride, bool accumulate)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c + cStride); c11 = Vector256.Load(c + cStride + 8);
            c20 = Vector256.Load(c + 2 * cStride); c21 = Vector256.Load(c + 2 * cStride + 8);
            c30 = Vector256.Load(c + 3 * cStride); c31 = Vector256.Load(c + 3 * cStride + 8);
            c40 = Vector256.Load(c + 4 * cStride); c41 = Vector256.Load(c + 4 * cStride + 8);
            c50 = Vector256.Load(c + 5 * cStride); c51 = Vector256.Load(c + 5 * cStride + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        int last = validRows - 1;
        float* a0 = a, a1 = a + Math.Min(1, last) * aStride, a2 = a + Math.Min(2, last) * aStride;
        float* a3 = a + Math.Min(3, last) * aStride, a4 = a + Math.Min(4, last) * aStride, a5 = a + Math.Min(5, last) * aStride;
        // Memory-operand broadcasts (one load uop each) and pointers stepped by addition keep the loop at
        // 8 loads + 12 FMAs per k.
        for (int j = 0; j < k; j++, b += bStride)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var s = Avx.BroadcastScalarToVector256(a0 + j); c00 = Fma.MultiplyAdd(s, b0, c00); c01 = Fma.MultiplyAdd(s, b1, c01);
            s = Avx.BroadcastScalarToVector256(a1 + j); c10 = Fma.MultiplyAdd(s, b0, c10); c11 = Fma.MultiplyAdd(s, b1, c11);
            s = Avx.BroadcastScalarToVector256(a2 + j); c20 = Fma.MultiplyAdd(s, b0, c20); c21 = Fma.MultiplyAdd(s, b1, c21);
            s = Avx.BroadcastScalarToVector256(a3 + j); c30 = Fma.MultiplyAdd(s, b0, c30); c31 = Fma.MultiplyAdd(s, b1, c31);
            s = Avx.BroadcastScalarToVector256(a4 + j); c40 = Fma.MultiplyAdd(s, b0, c40); c41 = Fma.MultiplyAdd(s, b1, c41);
            s = Avx.BroadcastScalarToVector256(a5 + j); c50 = Fma.MultiplyAdd(s, b0, c50); c51 = Fma.MultiplyAdd(s, b1, c51);
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + cStride); c11.Store(c + cStride + 8);
        c20.Store(c + 2 * cStride); c21.Store(c + 2 * cStride + 8);
        c30.Store(c + 3 * cStride); c31.Store(c + 3 * cStride + 8);
        c40.Store(c + 4 * cStride); c41.Store(c + 4 * cStride + 8);
        c50.Store(c + 5 * cStride); c51.Store(c + 5 * cStride + 8);
    }
}
