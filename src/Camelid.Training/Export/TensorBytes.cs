using System.Runtime.InteropServices;
using Camelid.Tensors.Quant;

namespace Camelid.Training.Export;

/// <summary>f32 parameter values as the bytes of an F32, F16 or BF16 tensor (the project's round-to-nearest-even
/// conversions, <see cref="Quantizer.QuantizeRow"/>), converted a chunk at a time so a large tensor needs no second copy.</summary>
static class TensorBytes
{
    const int ChunkElements = 1 << 16;

    public static void Write(Stream stream, float[] values, GgmlType type)
    {
        if (type == GgmlType.F32)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        var buffer = new byte[GgmlTypes.RowBytes(type, ChunkElements)];
        for (int start = 0; start < values.Length; start += ChunkElements)
        {
            int count = Math.Min(ChunkElements, values.Length - start);
            var bytes = buffer.AsSpan(0, (int)GgmlTypes.RowBytes(type, count));
            Quantizer.QuantizeRow(type, values.AsSpan(start, count), bytes);
            stream.Write(bytes);
        }
    }
}
