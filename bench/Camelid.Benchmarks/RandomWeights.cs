using System.Runtime.InteropServices;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;

namespace Camelid.Benchmarks;

/// <summary>Seeded random matrices and vectors, quantized with the library's own <see cref="Quantizer"/>.</summary>
static unsafe class RandomWeights
{
    /// <summary>A (rows, cols) matrix of uniform values in [-1, 1) stored as <paramref name="type"/>, in a pinned
    /// array that the returned view points into; keep <paramref name="storage"/> alive as long as the view.</summary>
    public static WeightMatrix Matrix(GgmlType type, int rows, int cols, int seed, out byte[] storage)
    {
        long rowBytes = GgmlTypes.RowBytes(type, cols);
        storage = GC.AllocateArray<byte>(checked((int)(rowBytes * rows)), pinned: true);
        var random = new Random(seed);
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            Fill(random, row);
            Quantizer.QuantizeRow(type, row, storage.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        return View(type, rows, cols)(storage);
    }

    /// <summary>A view over a pinned array that holds a (rows, cols) matrix of <paramref name="type"/>.</summary>
    public static Func<byte[], WeightMatrix> View(GgmlType type, int rows, int cols) =>
        pinned => new WeightMatrix((byte*)Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0), type, rows, cols);

    public static byte[] PinnedCopy(byte[] source)
    {
        var copy = GC.AllocateUninitializedArray<byte>(source.Length, pinned: true);
        source.CopyTo(copy, 0);
        return copy;
    }

    public static float[] Vector(int length, int seed)
    {
        var v = new float[length];
        Fill(new Random(seed), v);
        return v;
    }

    static void Fill(Random random, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = random.NextSingle() * 2 - 1;
    }
}
