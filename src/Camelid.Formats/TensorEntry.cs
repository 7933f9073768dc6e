using System.Runtime.InteropServices;
using Camelid.Tensors.Quant;

namespace Camelid.Formats;

/// <summary>
/// One named tensor of a model file: type, shape and a view of its bytes (never a copy).
/// <see cref="Shape"/> is outermost-first, as in PyTorch/numpy: a weight matrix is (rows, cols) and each
/// row of <c>cols</c> elements is stored contiguously (GGUF lists the same dims innermost-first).
/// </summary>
public sealed unsafe class TensorEntry
{
    readonly object? _owner; // keeps the mapped file or pinned array alive

    public string Name { get; }
    public GgmlType Type { get; }
    public long[] Shape { get; }
    public long ElementCount { get; }
    public long ByteCount { get; }
    public byte* Pointer { get; }

    public TensorEntry(string name, GgmlType type, long[] shape, byte* pointer, long byteCount, object? owner)
    {
        Name = name;
        Type = type;
        Shape = shape;
        ElementCount = shape.Aggregate(1L, (a, b) => a * b);
        ByteCount = byteCount;
        Pointer = pointer;
        _owner = owner;
        long expected = ExpectedBytes(type, shape);
        if (expected != byteCount)
            throw new ModelFormatException($"tensor '{name}': {type} {FormatShape(shape)} needs {expected} bytes but {byteCount} are given");
    }

    /// <summary>A tensor over a managed array (pinned for its lifetime); used by writers and tests.</summary>
    public static TensorEntry FromBytes(string name, GgmlType type, long[] shape, byte[] bytes)
    {
        var pinned = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(pinned, 0);
        return new TensorEntry(name, type, shape, (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0), pinned.Length, pinned);
    }

    public static TensorEntry FromFloats(string name, long[] shape, ReadOnlySpan<float> values) =>
        FromBytes(name, GgmlType.F32, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Rows = product of all dims but the last; Cols = the last (innermost) dim.</summary>
    public long Rows => Shape.Length <= 1 ? 1 : ElementCount / Shape[^1];
    public long Cols => Shape.Length == 0 ? 1 : Shape[^1];

    public ReadOnlySpan<byte> Bytes => ByteCount <= int.MaxValue
        ? new ReadOnlySpan<byte>(Pointer, (int)ByteCount)
        : throw new ModelFormatException($"tensor '{Name}' is larger than 2 GiB; read it row by row");

    /// <summary>The bytes of rows [first, first + count).</summary>
    public ReadOnlySpan<byte> RowBytes(long first, int count)
    {
        long rowBytes = GgmlTypes.RowBytes(Type, Cols);
        if (first < 0 || count < 0 || first + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(first), $"rows [{first}, {first + count}) outside tensor '{Name}' with {Rows} rows");
        return new ReadOnlySpan<byte>(Pointer + first * rowBytes, checked((int)(rowBytes * count)));
    }

    /// <summary>The tensor as floats, converting F16/BF16/quantized data; for small tensors (norms) and tests.</summary>
    public float[] ToFloats()
    {
        var result = new float[checked((int)ElementCount)];
        long rowBytes = GgmlTypes.RowBytes(Type, Cols);
        int cols = (int)Cols;
        for (long r = 0; r < Rows; r++)
            Dequantizer.DequantizeRow(Type, new ReadOnlySpan<byte>(Pointer + r * rowBytes, (int)rowBytes), result.AsSpan((int)(r * cols), cols));
        return result;
    }

    public static long ExpectedBytes(GgmlType type, long[] shape)
    {
        if (shape.Any(d => d < 0))
            throw new ModelFormatException($"negative dimension in shape {FormatShape(shape)}");
        long cols = shape.Length == 0 ? 1 : shape[^1];
        long rows = 1;
        foreach (var d in shape.AsSpan(0, Math.Max(0, shape.Length - 1)))
            rows = checked(rows * d);
        if (cols % GgmlTypes.BlockSize(type) != 0)
            throw new ModelFormatException($"a {type} row needs a multiple of {GgmlTypes.BlockSize(type)} elements, but the shape is {FormatShape(shape)}");
        return checked(rows * GgmlTypes.RowBytes(type, cols));
    }

    public static string FormatShape(long[] shape) => "(" + string.Join(", ", shape) + ")";

    public override string ToString() => $"{Name} {Type} {FormatShape(Shape)}";
}
