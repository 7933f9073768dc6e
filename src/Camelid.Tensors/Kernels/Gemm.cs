using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// y (T, rows) = x (T, cols) · Wᵀ for many tokens (prefill), in fp32 for every weight type.
/// With AVX-512 an fp32 FMA does as many multiply-adds per cycle as the int8 instructions .NET exposes
/// (vpmaddubsw + vpmaddwd) and needs no per-block rescaling, so the weights of a tile are dequantized once
/// and then reused by every token (on AVX2-only CPUs <see cref="MatMul"/> prefers the int8 kernels where it has them):
/// <list type="number">
/// <item>x is transposed once per call to xᵀ in blocks of <see cref="TokenBlock"/> tokens (zero padded);</item>
/// <item>each thread takes tiles of <see cref="TileRows"/> weight rows, dequantizes them into its scratch
/// (a tile stays in L2), and for each block of 32 tokens runs the 6-row × 32-token <see cref="Microkernel"/> over all
/// columns: per column, 2 loads of xᵀ, 6 broadcast weights, 12 FMAs into 12 accumulators in registers.</item>
/// </list>
/// Activations are not quantized here, so prefill is more exact than decode; results differ from
/// <see cref="MatMul"/>'s decode path only by activation rounding and summation order.
/// Needs AVX-512F, or AVX2 + FMA (the microkernel then runs in two 16-column halves); <see cref="IsSupported"/>
/// is false elsewhere and MatMul keeps its portable path.
/// </summary>
internal static unsafe class Gemm
{
    public const int TileRows = 96;
    const int KernelRows = Microkernel.Rows;
    const int TokenBlock = Microkernel.Columns;
    const int ColumnChunk = 128; // 128 columns × 32 tokens × 4 bytes = 16 KiB of xᵀ: stays in L1

    public static bool IsSupported => Microkernel.IsSupported;

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
                    int validTokens = Math.Min(TokenBlock, Tokens - tb);
                    for (int k0 = 0; k0 < cols; k0 += ColumnChunk)
                    {
                        int kc = Math.Min(ColumnChunk, cols - k0);
                        for (int kr = 0; kr < count; kr += KernelRows)
                            Microkernel.Multiply6x32(tile + (long)kr * stride + k0, stride, KernelRows, kc,
                                xBlock + (long)k0 * TokenBlock, TokenBlock, partial + kr * TokenBlock, TokenBlock, accumulate: k0 > 0, validTokens);
                    }
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
}
