using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Training;

/// <summary>
/// Out-of-place matrix transpose: 8×8 blocks transposed in AVX registers (8 row loads, 24 shuffles, 8 stores),
/// split over the pool by bands of 8 source rows; the edges and CPUs without AVX go element by element.
/// Memory-bound, it runs at copy speed instead of paying a strided store per element.
/// </summary>
public static unsafe class Transposition
{
    const int Block = 8;

    /// <summary>dst (cols, rows) = src (rows, cols)ᵀ.</summary>
    public static void Transpose(float* src, float* dst, int rows, int cols, ComputePool? pool = null)
    {
        if (rows <= 0 || cols <= 0)
            return;
        var body = new Body { Src = src, Dst = dst, Rows = rows, Cols = cols };
        int bands = (rows + Block - 1) / Block;
        if (pool == null || (long)rows * cols < 1 << 15)
            body.Execute(0, bands);
        else
            pool.For(bands, ref body);
    }

    struct Body : IParallelBody
    {
        public float* Src, Dst;
        public int Rows, Cols;

        public readonly void Execute(int start, int end)
        {
            for (int band = start; band < end; band++)
            {
                int r0 = band * Block, r1 = Math.Min(Rows, r0 + Block);
                int c = 0;
                if (Avx.IsSupported && r1 - r0 == Block)
                    for (; c + Block <= Cols; c += Block)
                        Transpose8x8(Src + (long)r0 * Cols + c, Cols, Dst + (long)c * Rows + r0, Rows);
                for (int r = r0; r < r1; r++)
                {
                    float* line = Src + (long)r * Cols;
                    for (int j = c; j < Cols; j++)
                        Dst[(long)j * Rows + r] = line[j];
                }
            }
        }
    }

    static void Transpose8x8(float* src, int srcStride, float* dst, int dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2L * srcStride);
        var r3 = Avx.LoadVector256(src + 3L * srcStride);
        var r4 = Avx.LoadVector256(src + 4L * srcStride);
        var r5 = Avx.LoadVector256(src + 5L * srcStride);
        var r6 = Avx.LoadVector256(src + 6L * srcStride);
        var r7 = Avx.LoadVector256(src + 7L * srcStride);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves (the classic 8×8 in-register transpose).
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2L * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3L * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4L * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5L * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6L * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7L * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
