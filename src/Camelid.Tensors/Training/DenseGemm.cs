using System.Numerics.Tensors;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Training;

/// <summary>
/// C (M, N) (+)= A (M, K) · B (K, N), all fp32 row-major with leading strides: the one matrix product of
/// the training engine (forward, input gradient and weight gradient are all arranged to be this shape).
/// Blocking, in the spirit of Goto's GEMM: a task owns a group of <see cref="GroupRows"/> rows of A and a
/// range of 32-column blocks of B; per K chunk of <see cref="KChunk"/> it packs each 32-column panel of B
/// contiguously (16 KiB, stays in L1) and runs the 6×32 <see cref="Microkernel"/> down the group's rows, whose
/// A chunk (48 KiB) stays in L2 across the panels. Tails in M and N go through a zero-padded 6×32 tile.
/// Without AVX2/AVX-512 it falls back to row-times-scalar TensorPrimitives loops.
/// </summary>
public static unsafe class DenseGemm
{
    const int GroupRows = 96;
    const int KChunk = 128;
    const int Width = Microkernel.Columns;
    const int Height = Microkernel.Rows;

    [ThreadStatic] static float[]? t_panel;
    [ThreadStatic] static float[]? t_tile;

    public static void Multiply(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate, ComputePool pool)
    {
        if (m <= 0 || n <= 0)
            return;
        if (k <= 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++)
                    new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }
        int rowGroups = (m + GroupRows - 1) / GroupRows;
        int columnBlocks = (n + Width - 1) / Width;
        // Enough tasks to keep every thread busy (several each, the machine is shared), no more: each
        // column split re-reads the group's A chunk.
        int columnSplits = Math.Clamp((4 * pool.Threads + rowGroups - 1) / rowGroups, 1, columnBlocks);
        var body = new Body
        {
            A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc, M = m, N = n, K = k,
            Accumulate = accumulate, RowGroups = rowGroups, ColumnBlocks = columnBlocks, ColumnSplits = columnSplits,
        };
        pool.For(rowGroups * columnSplits, ref body);
    }

    struct Body : IParallelBody
    {
        public float* A, B, C;
        public int Lda, Ldb, Ldc, M, N, K, RowGroups, ColumnBlocks, ColumnSplits;
        public bool Accumulate;

        public void Execute(int start, int end)
        {
            for (int task = start; task < end; task++)
            {
                int group = task % RowGroups, split = task / RowGroups;
                int firstBlock = (int)((long)ColumnBlocks * split / ColumnSplits);
                int endBlock = (int)((long)ColumnBlocks * (split + 1) / ColumnSplits);
                int m0 = group * GroupRows, m1 = Math.Min(M, m0 + GroupRows);
                if (Microkernel.IsSupported)
                    Blocked(m0, m1, firstBlock * Width, Math.Min(N, endBlock * Width));
                else
                    Portable(m0, m1, firstBlock * Width, Math.Min(N, endBlock * Width));
            }
        }

        readonly void Blocked(int m0, int m1, int n0, int n1)
        {
            float* panel = PinnedScratch.Ensure(ref t_panel, KChunk * Width);
            float* tile = PinnedScratch.Ensure(ref t_tile, Height * Width);
            for (int k0 = 0; k0 < K; k0 += KChunk)
            {
                int kc = Math.Min(KChunk, K - k0);
                bool accumulate = Accumulate || k0 > 0;
                for (int nb = n0; nb < n1; nb += Width)
                {
                    int width = Math.Min(Width, n1 - nb);
                    Pack(panel, B + (long)k0 * Ldb + nb, Ldb, kc, width);
                    for (int i = m0; i < m1; i += Height)
                    {
                        int rows = Math.Min(Height, m1 - i);
                        float* a = A + (long)i * Lda + k0;
                        float* c = C + (long)i * Ldc + nb;
                        if (rows == Height && width == Width)
                        {
                            Microkernel.Multiply6x32(a, Lda, Height, kc, panel, Width, c, Ldc, accumulate);
                            continue;
                        }
                        for (int r = 0; r < Height; r++)
                        {
                            var line = new Span<float>(tile + r * Width, Width);
                            line.Clear();
                            if (accumulate && r < rows)
                                new ReadOnlySpan<float>(c + (long)r * Ldc, width).CopyTo(line);
                        }
                        Microkernel.Multiply6x32(a, Lda, rows, kc, panel, Width, tile, Width, accumulate: true);
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<float>(tile + r * Width, width).CopyTo(new Span<float>(c + (long)r * Ldc, width));
                    }
                }
            }
        }

        /// <summary>kc rows of <paramref name="width"/> columns of B into a contiguous (kc, 32) panel, zero padded.</summary>
        static void Pack(float* panel, float* b, int ldb, int kc, int width)
        {
            for (int j = 0; j < kc; j++)
            {
                var row = new Span<float>(panel + j * Width, Width);
                new ReadOnlySpan<float>(b + (long)j * ldb, width).CopyTo(row);
                if (width < Width)
                    row[width..].Clear();
            }
        }

        readonly void Portable(int m0, int m1, int n0, int n1)
        {
            int width = n1 - n0;
            for (int i = m0; i < m1; i++)
            {
                var c = new Span<float>(C + (long)i * Ldc + n0, width);
                if (!Accumulate)
                    c.Clear();
                float* a = A + (long)i * Lda;
                for (int j = 0; j < K; j++)
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(B + (long)j * Ldb + n0, width), a[j], c, c);
            }
        }
    }
}
