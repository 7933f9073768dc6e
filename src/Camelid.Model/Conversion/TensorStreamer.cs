using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Model.Conversion;

/// <summary>Fills rows [firstRow, firstRow + rowCount) of a tensor as fp32, (rowCount, cols) row-major. Called from
/// several threads at once for disjoint rows.</summary>
delegate void RowSource(long firstRow, int rowCount, Span<float> destination);

/// <summary>Fills rows [firstRow, firstRow + rowCount) of a tensor as the bytes of the type it is written as.</summary>
delegate void RowBytesSource(long firstRow, int rowCount, Span<byte> destination);

/// <summary>
/// Writes one tensor in any type from an fp32 row source without ever holding the tensor: rows are taken in blocks
/// of about <see cref="BlockElements"/> values, each block is generated and quantized in parallel (rows split across
/// the pool's threads; each row is quantized on its own, so the bytes do not depend on the thread count), then
/// written out before the next block starts.
/// </summary>
static class TensorStreamer
{
    /// <summary>4 Mi values: 16 MB of fp32 per block, enough work per block to keep both cores busy.</summary>
    const int BlockElements = 1 << 22;

    public static void Write(Stream output, GgmlType type, long rows, int cols, RowSource source, ComputePool pool,
        Action<long> bytesWritten, CancellationToken cancellation)
    {
        int rowBytes = checked((int)GgmlTypes.RowBytes(type, cols));
        int blockRows = (int)Math.Clamp(BlockElements / Math.Max(cols, 1), 1, Math.Max(rows, 1));
        var floats = GC.AllocateUninitializedArray<float>(checked(blockRows * cols)); // (blockRows, cols)
        var bytes = GC.AllocateUninitializedArray<byte>(checked(blockRows * rowBytes)); // (blockRows, rowBytes)
        for (long first = 0; first < rows; first += blockRows)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = (int)Math.Min(blockRows, rows - first);
            var body = new BlockBody(source, type, first, cols, rowBytes, floats, bytes);
            pool.For(count, ref body);
            output.Write(bytes, 0, count * rowBytes);
            bytesWritten((long)count * rowBytes);
        }
    }

    /// <summary>Writes a tensor whose rows come ready in their written type, about 16 MB at a time, in row order.</summary>
    public static void WriteBytes(Stream output, long rows, long rowBytes, RowBytesSource source, Action<long> bytesWritten,
        CancellationToken cancellation)
    {
        if (rowBytes == 0 || rows == 0)
            return;
        int blockRows = (int)Math.Clamp((1 << 24) / rowBytes, 1, rows);
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)(blockRows * rowBytes)));
        for (long first = 0; first < rows; first += blockRows)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = (int)Math.Min(blockRows, rows - first);
            var block = bytes.AsSpan(0, (int)(count * rowBytes));
            source(first, count, block);
            output.Write(block);
            bytesWritten(block.Length);
        }
    }

    /// <summary>Writes a stored tensor's bytes unchanged, 16 MB at a time (it may be a mapped file larger than memory).</summary>
    public static void Copy(Stream output, Formats.TensorEntry stored, Action<long> bytesWritten, CancellationToken cancellation)
    {
        long rowBytes = GgmlTypes.RowBytes(stored.Type, stored.Cols);
        if (rowBytes == 0)
            return;
        int blockRows = (int)Math.Max(1, (1 << 24) / rowBytes);
        for (long row = 0; row < stored.Rows; row += blockRows)
        {
            cancellation.ThrowIfCancellationRequested();
            var bytes = stored.RowBytes(row, (int)Math.Min(blockRows, stored.Rows - row));
            output.Write(bytes);
            bytesWritten(bytes.Length);
        }
    }

    readonly struct BlockBody(RowSource source, GgmlType type, long firstRow, int cols, int rowBytes, float[] floats, byte[] bytes) : IParallelBody
    {
        public void Execute(int start, int end)
        {
            var values = floats.AsSpan(start * cols, (end - start) * cols);
            source(firstRow + start, end - start, values);
            for (int r = start; r < end; r++)
                Quantizer.QuantizeRow(type, floats.AsSpan(r * cols, cols), bytes.AsSpan(r * rowBytes, rowBytes));
        }
    }
}
