using Camelid.Tensors.Training;

namespace Camelid.Tensors.Tests.Training;

/// <summary>Transposition moves bits, so it must be exact: every value lands at its mirrored index, nothing past the end is written.</summary>
public sealed unsafe class TranspositionTests
{
    const int Guard = 19;
    static readonly float Untouched = BitConverter.Int32BitsToSingle(0x7FC0_4321);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 17)]
    [InlineData(17, 1)]
    [InlineData(15, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 33)]
    [InlineData(31, 47)]
    [InlineData(48, 5)]
    [InlineData(0, 7)]
    [InlineData(8, 8)]
    [InlineData(203, 171, 2)]   // 8×8 register blocks, their edges, and bands split over two threads
    [InlineData(256, 288, 2)]
    public void Transpose_PutsEveryValueAtItsMirroredIndex(int rows, int cols, int threads = 0)
    {
        var rng = new Random(rows * 100 + cols);
        var source = TestData.Gaussian(rng, rows * cols);
        // Values whose bits an arithmetic detour would change.
        float[] specials = [-0f, float.Epsilon, -float.Epsilon, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue];
        for (int i = 0; i < Math.Min(specials.Length, source.Length); i++)
            source[(i * 7) % source.Length] = specials[i];
        var destination = Enumerable.Repeat(Untouched, rows * cols + Guard).ToArray();

        using var pool = threads > 0 ? new Camelid.Tensors.Threading.ComputePool(threads) : null;
        fixed (float* src = source, dst = destination)
            Transposition.Transpose(src, dst, rows, cols, pool);

        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                Assert.Equal(BitConverter.SingleToInt32Bits(source[r * cols + c]), BitConverter.SingleToInt32Bits(destination[c * rows + r]));
        for (int at = rows * cols; at < destination.Length; at++)
            Assert.Equal(BitConverter.SingleToInt32Bits(Untouched), BitConverter.SingleToInt32Bits(destination[at]));
    }
}
