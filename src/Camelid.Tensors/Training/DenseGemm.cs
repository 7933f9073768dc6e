using System.Numerics.Tensors;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Training;

/// <summary>
/// C (M, N) (+)= A (M, K) · B (K, N), all fp32 row-major with leading strides: the one matrix product of
/// the training engine (forward, input gradient and weight gradient are all arranged to be this shape).
/// Blocking, in the spirit of Goto's GEMM: a task owns a group of up to <see cref="MaxGroupRows"/> rows of A and a
/// range of 32-column blocks of B; per K chunk of <see cref="KChunk"/> it copies the group's A chunk into a
/// buffer whose row stride is not a multiple of 4 KiB (rows of 2^k floats would all fall in the same L1 sets and
/// alias in the load unit), packs each 32-column panel of B contiguously (16 KiB, stays in L1), and runs the 6×32
/// <see cref="Microkernel"/> down the group's rows, whose A chunk stays in L2 across the panels. Tails in
/// M and N go through a zero-padded 6×32 tile.
/// Without AVX2/AVX-512 it falls back to row-times-scalar TensorPrimitives loops.
/// </summary>
public static unsafe class DenseGemm
{
    /// <summary>Most rows of A per task: their packed K chunk (336 × 144 floats, 189 KiB) stays in a 256–512 KiB L2.</summary>
    const int MaxGroupRows = 336;
    const int KChunk = 128;
    const int Width = Microkernel.Columns;
    const int Height = Microkernel.Rows;

    /// <summary>Row stride of the packed A chunk: KChunk plus one cache line.</summary>
    const int PackedStride = KChunk + 16;

    [ThreadStatic] static float[]? t_panel;
    [ThreadStatic] static float[]? t_tile;
    [ThreadStatic] static float[]? t_rows;

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
        // Tall row groups: every group packs each B panel again, so fewer groups mean less copying (B is a whole
        // weight matrix in the input-gradient product). Then enough column splits to keep every thread busy
        // (several tasks each, the machine is shared), no more: each split re-packs the group's A chunk.
        // Groups of equal height (a multiple of 6), so no task is left with a thin remainder.
        int rowGroups = (m + MaxGroupRows - 1) / MaxGroupRows;
        int groupRows = ((m + rowGroups - 1) / rowGroups + Height - 1) / Height * Height;
        rowGroups = (m + groupRows - 1) / groupRows;
        int columnBlocks = (n + Width - 1) / Width;
        int columnSplits = Math.Clamp((4 * pool.Threads + rowGroups - 1) / rowGroups, 1, columnBlocks);
        var body = new Body
        {
            A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc, M = m, N = n, K = k,
            Accumulate = accumulate, GroupRows = groupRows, RowGroups = rowGroups, ColumnBlocks = columnBlocks, ColumnSplits = columnSplits,
        };
        pool.For(rowGroups * columnSplits, ref body);
    }

    struct Body : IParallelBody
    {
        public float* A, B, C;
        public int Lda, Ldb, Ldc, M, N, K, GroupRows, RowGroups, ColumnBlocks, ColumnSplits;
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
            float* rows = PinnedScratch.Ensure(ref t_rows, MaxGroupRows * PackedStride);
            for (int k0 = 0; k0 < K; k0 += KChunk)
            {
                int kc = Math.Min(KChunk, K - k0);
                bool accumulate = Accumulate || k0 > 0;
                for (int i = m0; i < m1; i++)
                    new ReadOnlySpan<float>(A + (long)i * Lda + k0, kc).CopyTo(new Span<float>(rows + (i - m0) * PackedStride, kc));
                for (int nb = n0; nb < n1; nb += Width)
                {
                    int width = Math.Min(Width, n1 - nb);
                    Pack(panel, B + (long)k0 * Ldb + nb, Ldb, kc, width);
                    for (int i = m0; i < m1; i += Height)
                    {
                        int height = Math.Min(Height, m1 - i);
                        float* a = rows + (i - m0) * PackedStride;
                        float* c = C + (long)i * Ldc + nb;
                        if (height == Height && width == Width)
                        {
                            Microkernel.Multiply6x32(a, PackedStride, Height, kc, panel, Width, c, Ldc, accumulate);
                            continue;
                        }
                        for (int r = 0; r < Height; r++)
                        {
                            var line = new Span<float>(tile + r * Width, Width);
                            line.Clear();
                            if (accumulate && r < height)
                                new ReadOnlySpan<float>(c + (long)r * Ldc, width).CopyTo(line);
                        }
                        Microkernel.Multiply6x32(a, PackedStride, height, kc, panel, Width, tile, Width, accumulate: true);
                        for (int r = 0; r < height; r++)
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
