namespace Camelid.Tensors.Training;

/// <summary>Out-of-place matrix transpose in 16×16 blocks (one cache line of each source row at a time).</summary>
public static unsafe class Transposition
{
    const int Block = 16;

    /// <summary>dst (cols, rows) = src (rows, cols)ᵀ.</summary>
    public static void Transpose(float* src, float* dst, int rows, int cols)
    {
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(rows, r0 + Block);
            for (int c0 = 0; c0 < cols; c0 += Block)
            {
                int c1 = Math.Min(cols, c0 + Block);
                for (int r = r0; r < r1; r++)
                {
                    float* line = src + (long)r * cols;
                    for (int c = c0; c < c1; c++)
                        dst[(long)c * rows + r] = line[c];
                }
            }
        }
    }
}
