using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

/// <summary>Rows of source tensors as the bytes of the type they are written as, and progress over several tensors.</summary>
static class WrittenRows
{
    /// <summary>Canonical rows of <paramref name="t"/> as <paramref name="type"/>: the stored bytes when the type is the
    /// same, else dequantized to f32 (exact for F16/BF16) and converted with the reference conversions.</summary>
    public static RowBytesSource Converted(SourceTensor t, GgmlType type)
    {
        if (type == t.Type && !t.IsModified)
            return t.CopyRows;
        int cols = t.Cols;
        int rowBytes = checked((int)GgmlTypes.RowBytes(type, cols));
        float[] floats = [];
        return (first, count, destination) =>
        {
            if (floats.Length < count * cols)
                floats = GC.AllocateUninitializedArray<float>(count * cols);
            t.ReadRows(first, count, floats.AsSpan(0, count * cols));
            for (int r = 0; r < count; r++)
                Quantizer.QuantizeRow(type, floats.AsSpan(r * cols, cols), destination.Slice(r * rowBytes, rowBytes));
        };
    }

    /// <summary>Rows of a Q/K tensor in HF's rotate-half order, from rows in Meta's order (RotaryRowOrder).</summary>
    public static RowBytesSource InHfOrder(RowBytesSource metaOrder, long rowBytes, int headSize) => (first, count, destination) =>
    {
        int bytes = (int)rowBytes;
        for (int r = 0; r < count; r++)
            metaOrder(RotaryRowOrder.MetaRowOf(first + r, headSize), 1, destination.Slice(r * bytes, bytes));
    };

    public static bool IsRotary(string canonicalName) =>
        canonicalName.EndsWith(".attn_q.weight", StringComparison.Ordinal) || canonicalName.EndsWith(".attn_k.weight", StringComparison.Ordinal);
}

/// <summary>Reports <see cref="ConversionProgress"/> across the tensors of one output, as GgufOutput does for GGUF.</summary>
sealed class ProgressCounter(ConversionOptions options, IReadOnlyList<ConvertedTensor> tensors)
{
    readonly long _total = tensors.Sum(t => t.ByteCount);
    long _written;
    int _index;

    public void Start(int index)
    {
        _index = index;
        Report();
    }

    public void Advance(long bytes)
    {
        _written += bytes;
        Report();
    }

    void Report() => options.Progress?.Invoke(new ConversionProgress(_index, tensors.Count, tensors[_index].Name, tensors[_index].Type, _written, _total));
}
