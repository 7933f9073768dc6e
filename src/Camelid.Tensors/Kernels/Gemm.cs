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
    public const int TileRows = 24;
    const int KernelRows = 6;
    const int TokenBlock = 32;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    [ThreadStatic] static float[]? t_tile;       // each thread's dequantized weight tile
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
            for (int t = 0; t < TokenBlock; t++)
            {
                float* src = x + (long)(b * TokenBlock + t) * cols;
                if (t < valid)
                    for (int c = 0; c < cols; c++)
                        block[(long)c * TokenBlock + t] = src[c];
                else
                    for (int c = 0; c < cols; c++)
                        block[(long)c * TokenBlock + t] = 0;
            }
        }
    }

    struct TileBody : IParallelBody
    {
        public WeightMatrix W;
        public float* XT, Y;
        public int Tokens, PaddedTokens;

        public void Execute(int start, int end)
        {
            int rows = W.Rows, cols = W.Cols;
            float* tile = PinnedScratch.Ensure(ref t_tile, (long)TileRows * cols); // (TileRows, cols)
            for (int t = start; t < end; t++)
            {
                int r0 = t * TileRows, count = Math.Min(TileRows, rows - r0);
                for (int r = 0; r < TileRows; r++)
                {
                    var dst = new Span<float>(tile + (long)r * cols, cols);
                    if (r < count)
                        DequantizeRow(W, r0 + r, dst);
                    else
                        dst.Clear();
                }
                for (int tb = 0; tb < PaddedTokens; tb += TokenBlock)
                    for (int kr = 0; kr < count; kr += KernelRows)
                        Kernel6x32(tile + (long)kr * cols, cols, XT + (long)tb * cols, Y, rows, r0 + kr, Math.Min(KernelRows, count - kr), tb, Math.Min(TokenBlock, Tokens - tb));
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
    /// Rows r0..r0+6 of the tile (each <paramref name="cols"/> long) times the token block tb..tb+32 of xᵀ
    /// (<paramref name="xt"/>: (cols, 32)), written to
    /// y[t, r] for the <paramref name="validRows"/> × <paramref name="validTokens"/> results that exist.
    /// </summary>
    [SkipLocalsInit]
    static void Kernel6x32(float* w, int cols, float* xt, float* y, int yStride, int r0, int validRows, int tb, int validTokens)
    {
        var c00 = Vector512<float>.Zero; var c01 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero;
        var c20 = Vector512<float>.Zero; var c21 = Vector512<float>.Zero;
        var c30 = Vector512<float>.Zero; var c31 = Vector512<float>.Zero;
        var c40 = Vector512<float>.Zero; var c41 = Vector512<float>.Zero;
        var c50 = Vector512<float>.Zero; var c51 = Vector512<float>.Zero;
        float* w0 = w, w1 = w + cols, w2 = w + 2 * cols, w3 = w + 3 * cols, w4 = w + 4 * cols, w5 = w + 5 * cols;
        for (int k = 0; k < cols; k++)
        {
            float* xk = xt + (long)k * TokenBlock;
            var x0 = Vector512.Load(xk);
            var x1 = Vector512.Load(xk + 16);
            var a = Vector512.Create(w0[k]); c00 = Avx512F.FusedMultiplyAdd(a, x0, c00); c01 = Avx512F.FusedMultiplyAdd(a, x1, c01);
            a = Vector512.Create(w1[k]); c10 = Avx512F.FusedMultiplyAdd(a, x0, c10); c11 = Avx512F.FusedMultiplyAdd(a, x1, c11);
            a = Vector512.Create(w2[k]); c20 = Avx512F.FusedMultiplyAdd(a, x0, c20); c21 = Avx512F.FusedMultiplyAdd(a, x1, c21);
            a = Vector512.Create(w3[k]); c30 = Avx512F.FusedMultiplyAdd(a, x0, c30); c31 = Avx512F.FusedMultiplyAdd(a, x1, c31);
            a = Vector512.Create(w4[k]); c40 = Avx512F.FusedMultiplyAdd(a, x0, c40); c41 = Avx512F.FusedMultiplyAdd(a, x1, c41);
            a = Vector512.Create(w5[k]); c50 = Avx512F.FusedMultiplyAdd(a, x0, c50); c51 = Avx512F.FusedMultiplyAdd(a, x1, c51);
        }
        float* results = stackalloc float[KernelRows * TokenBlock]; // (6 rows, 32 tokens)
        c00.Store(results); c01.Store(results + 16);
        c10.Store(results + 32); c11.Store(results + 48);
        c20.Store(results + 64); c21.Store(results + 80);
        c30.Store(results + 96); c31.Store(results + 112);
        c40.Store(results + 128); c41.Store(results + 144);
        c50.Store(results + 160); c51.Store(results + 176);
        for (int t = 0; t < validTokens; t++)
            for (int r = 0; r < validRows; r++)
                y[(long)(tb + t) * yStride + r0 + r] = results[r * TokenBlock + t];
    }
}
