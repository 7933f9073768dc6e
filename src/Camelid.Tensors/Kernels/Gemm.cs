using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// y (T, rows) = x (T, cols) · Wᵀ for many tokens (prefill), in fp32 for every weight type.
/// On this class of CPU an fp32 FMA does as many multiply-adds per cycle as the int8 instructions .NET
/// exposes (vpmaddubsw + vpmaddwd), and needs no per-block rescaling, so the weights of a tile are
/// dequantized once and then reused by every token:
/// <list type="number">
/// <item>x is transposed once per call to xᵀ in blocks of <see cref="TokenBlock"/> tokens (zero padded);</item>
/// <item>each thread takes tiles of <see cref="TileRows"/> weight rows, dequantizes them into its scratch
/// (a tile stays in L2), and for each block of 32 tokens runs the 6-row × 32-token microkernel over all
/// columns: per column, 2 loads of xᵀ, 6 broadcast weights, 12 FMAs into 12 accumulators in registers.</item>
/// </list>
/// Activations are not quantized here, so prefill is more exact than decode; results differ from
/// <see cref="MatMul"/>'s decode path only by activation rounding and summation order.
/// Needs AVX-512F; <see cref="IsSupported"/> is false elsewhere and MatMul keeps its portable path.
/// </summary>
internal static unsafe class Gemm
{
    public const int TileRows = 96;
    const int KernelRows = 6;
    const int TokenBlock = 32;
    const int ColumnChunk = 128; // 128 columns × 32 tokens × 4 bytes = 16 KiB of xᵀ: stays in L1

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    [ThreadStatic] static float[]? t_tile;       // each thread's dequantized weight tile
    [ThreadStatic] static float[]? t_partial;    // each thread's partial sums for one token block
    [ThreadStatic] static float[]? t_transposed; // the caller's xᵀ, read by the workers while the caller waits in For

    public static void Multiply(in WeightMatrix w, float* x, float* y, int tokens, ComputePool pool)
    {
        int cols = w.Cols;
        int paddedTokens = (tokens + TokenBlock - 1) / TokenBlock * TokenBlock;
        float* xt = PinnedScratch.Ensure(ref t_transposed, (long)cols * paddedTokens);
        Transpose(x, xt, tokens, cols, paddedTokens);
        var body = new TileBody { W = w, XT = xt, Y = y, Tokens = tokens, PaddedTokens = paddedTokens };
        pool.For((w.Rows + TileRows - 1) / TileRows, ref body);
    }

    /// <summary>xᵀ in token blocks, (T/32, cols, 32): block b, column c holds x[32b.., c]; tokens beyond
    /// <paramref name="tokens"/> are zero. Block-major so the microkernel reads one contiguous stream.</summary>
    static void Transpose(float* x, float* xt, int tokens, int cols, int paddedTokens)
    {
        for (int b = 0; b < paddedTokens / TokenBlock; b++)
        {
            float* block = xt + (long)b * cols * TokenBlock;
            int valid = Math.Min(TokenBlock, tokens - b * TokenBlock);
            float* src = x + (long)b * TokenBlock * cols;
            // 16 columns (one cache line of each source row) at a time: rows of 2^k floats all map to the same
            // L1 set, so reading 32 of them column by column would miss on every load.
            for (int c0 = 0; c0 < cols; c0 += 16)
            {
                int width = Math.Min(16, cols - c0);
                for (int t = 0; t < TokenBlock; t++)
                {
                    float* line = src + (long)t * cols + c0;
                    for (int c = 0; c < width; c++)
                        block[(long)(c0 + c) * TokenBlock + t] = t < valid ? line[c] : 0;
                }
            }
        }
    }

    /// <summary>Row stride of a dequantized tile: one cache line more than the row, so the six rows a
    /// microkernel reads side by side do not all map to the same L1 set (rows of 2^k floats would).</summary>
    static int TileStride(int cols) => (cols + 15) / 16 * 16 + 16;

    struct TileBody : IParallelBody
    {
        public WeightMatrix W;
        public float* XT, Y;
        public int Tokens, PaddedTokens;

        public void Execute(int start, int end)
        {
            int rows = W.Rows, cols = W.Cols;
            int stride = TileStride(cols);
            float* tile = PinnedScratch.Ensure(ref t_tile, (long)TileRows * stride); // (TileRows, stride)
            float* partial = PinnedScratch.Ensure(ref t_partial, TileRows * TokenBlock); // (TileRows, 32)
            for (int t = start; t < end; t++)
            {
                int r0 = t * TileRows, count = Math.Min(TileRows, rows - r0);
                for (int r = 0; r < TileRows; r++)
                {
                    var dst = new Span<float>(tile + (long)r * stride, cols);
                    if (r < count)
                        DequantizeRow(W, r0 + r, dst);
                    else
                        dst.Clear();
                }
                for (int tb = 0; tb < PaddedTokens; tb += TokenBlock)
                {
                    // Columns in chunks that stay in L1 while every row group of the tile uses them;
                    // partial sums wait in a small (TileRows, 32) buffer between chunks.
                    float* xBlock = XT + (long)tb * cols;
                    for (int k0 = 0; k0 < cols; k0 += ColumnChunk)
                    {
                        int kc = Math.Min(ColumnChunk, cols - k0);
                        for (int kr = 0; kr < count; kr += KernelRows)
                            Kernel6x32(tile + (long)kr * stride + k0, stride, kc, xBlock + (long)k0 * TokenBlock, partial + kr * TokenBlock, k0 > 0);
                    }
                    int validTokens = Math.Min(TokenBlock, Tokens - tb);
                    for (int token = 0; token < validTokens; token++)
                        for (int r = 0; r < count; r++)
                            Y[(long)(tb + token) * rows + r0 + r] = partial[r * TokenBlock + token];
                }
            }
        }
    }

    static void DequantizeRow(in WeightMatrix w, int r, Span<float> dst)
    {
        byte* row = w.Data + r * w.RowBytes;
        switch (w.Type)
        {
            case GgmlType.F32:
                new ReadOnlySpan<float>(row, dst.Length).CopyTo(dst);
                break;
            case GgmlType.F16:
                HalfPrecision.HalfToSingle(new ReadOnlySpan<Half>(row, dst.Length), dst);
                break;
            case GgmlType.BF16:
                HalfPrecision.Bf16ToSingle(new ReadOnlySpan<ushort>(row, dst.Length), dst);
                break;
            default:
                if (FastDequantizer.IsSupported(w.Type))
                    fixed (float* y = dst)
                        FastDequantizer.DequantizeRow(w.Type, row, y, dst.Length);
                else
                    Dequantizer.DequantizeRow(w.Type, new ReadOnlySpan<byte>(row, (int)w.RowBytes), dst);
                break;
        }
    }

    /// <summary>
    /// c (6, 32) (+)= w (6 rows, <paramref name="stride"/> apart, <paramref name="cols"/> used) · xᵀ block
    /// (cols, 32): per column, 2 loads of xᵀ, 6 broadcast weights, 12 FMAs into registers.
    /// </summary>
    static void Kernel6x32(float* w, int stride, int cols, float* xt, float* c, bool accumulate)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + 32); c11 = Vector512.Load(c + 48);
            c20 = Vector512.Load(c + 64); c21 = Vector512.Load(c + 80);
            c30 = Vector512.Load(c + 96); c31 = Vector512.Load(c + 112);
            c40 = Vector512.Load(c + 128); c41 = Vector512.Load(c + 144);
            c50 = Vector512.Load(c + 160); c51 = Vector512.Load(c + 176);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector512<float>.Zero;
        }
        float* w0 = w, w1 = w + stride, w2 = w + 2 * stride, w3 = w + 3 * stride, w4 = w + 4 * stride, w5 = w + 5 * stride;
        for (int k = 0; k < cols; k++)
        {
            float* xk = xt + k * TokenBlock;
            var x0 = Vector512.Load(xk);
            var x1 = Vector512.Load(xk + 16);
            var a = Vector512.Create(w0[k]); c00 = Avx512F.FusedMultiplyAdd(a, x0, c00); c01 = Avx512F.FusedMultiplyAdd(a, x1, c01);
            a = Vector512.Create(w1[k]); c10 = Avx512F.FusedMultiplyAdd(a, x0, c10); c11 = Avx512F.FusedMultiplyAdd(a, x1, c11);
            a = Vector512.Create(w2[k]); c20 = Avx512F.FusedMultiplyAdd(a, x0, c20); c21 = Avx512F.FusedMultiplyAdd(a, x1, c21);
            a = Vector512.Create(w3[k]); c30 = Avx512F.FusedMultiplyAdd(a, x0, c30); c31 = Avx512F.FusedMultiplyAdd(a, x1, c31);
            a = Vector512.Create(w4[k]); c40 = Avx512F.FusedMultiplyAdd(a, x0, c40); c41 = Avx512F.FusedMultiplyAdd(a, x1, c41);
            a = Vector512.Create(w5[k]); c50 = Avx512F.FusedMultiplyAdd(a, x0, c50); c51 = Avx512F.FusedMultiplyAdd(a, x1, c51);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + 32); c11.Store(c + 48);
        c20.Store(c + 64); c21.Store(c + 80);
        c30.Store(c + 96); c31.Store(c + 112);
        c40.Store(c + 128); c41.Store(c + 144);
        c50.Store(c + 160); c51.Store(c + 176);
    }
}
