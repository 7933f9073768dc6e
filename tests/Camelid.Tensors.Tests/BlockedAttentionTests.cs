using Camelid.Tensors.Kernels;

namespace Camelid.Tensors.Tests;

/// <summary>Blocked prefill attention against softmax(q·Kᵀ·scale)·V computed naively in double, for every
/// block height 1..6, visible lengths that straddle the 32-position blocks, and head sizes 64 and 128,
/// reading the second of two key/value heads (so strides and offsets matter).</summary>
public unsafe class BlockedAttentionTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void CausalRows_MatchesNaiveAttention(int headSize)
    {
        if (!BlockedAttention.IsSupported(headSize))
            return; // the model uses the per-position path on this CPU
        var rng = new Random(headSize);
        int kvDim = 2 * headSize, head = 1;
        foreach (int firstVisible in new[] { 1, 2, 31, 32, 33, 64, 70 })
            for (int rows = 1; rows <= BlockedAttention.Rows; rows++)
            {
                int positions = firstVisible + rows - 1;
                var q = TestData.Gaussian(rng, rows * headSize);
                var keys = TestData.Gaussian(rng, positions * kvDim);
                var values = TestData.Gaussian(rng, positions * kvDim);
                int padded = BlockedAttention.PaddedPositions(positions);
                var keysT = new float[kvDim * padded];
                var scores = new float[BlockedAttention.Rows * padded];
                var output = new float[rows * headSize];
                float scale = 1f / MathF.Sqrt(headSize);
                fixed (float* qp = q) fixed (float* kp = keys) fixed (float* vp = values) fixed (float* kt = keysT) fixed (float* sp = scores) fixed (float* op = output)
                {
                    BlockedAttention.TransposeKeys(kp, positions, kvDim, kt);
                    BlockedAttention.CausalRows(qp, headSize, rows, firstVisible, kt + head * headSize * padded, padded,
                        vp + head * headSize, kvDim, headSize, scale, op, headSize, sp);
                }
                for (int i = 0; i < rows; i++)
                {
                    int n = firstVisible + i;
                    var w = new double[n];
                    for (int p = 0; p < n; p++)
                        for (int d = 0; d < headSize; d++)
                            w[p] += (double)q[i * headSize + d] * keys[p * kvDim + head * headSize + d] * scale;
                    double max = w.Max(), sum = 0;
                    for (int p = 0; p < n; p++) sum += w[p] = Math.Exp(w[p] - max);
                    for (int d = 0; d < headSize; d++)
                    {
                        double expected = 0;
                        for (int p = 0; p < n; p++) expected += w[p] / sum * values[p * kvDim + head * headSize + d];
                        Assert.True(Math.Abs(output[i * headSize + d] - expected) <= 1e-5,
                            $"head {headSize}, visible {firstVisible}, rows {rows}: out[{i},{d}] = {output[i * headSize + d]}, expected {expected}");
                    }
                }
            }
    }
}
