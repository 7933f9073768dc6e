using Camelid.Tensors.Quant;

namespace Camelid.Tensors.Kernels;

/// <summary>A weight matrix (rows, cols) of any supported type with contiguous rows; <see cref="Data"/>
/// points into a memory map or a pinned array that must outlive every use of this view.</summary>
public readonly unsafe struct WeightMatrix
{
    public WeightMatrix(byte* data, GgmlType type, int rows, int cols)
    {
        if (!GgmlTypes.IsSupported(type))
            throw new NotSupportedException($"weights of type {type} are not supported by the kernels");
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (cols % GgmlTypes.BlockSize(type) != 0)
            throw new ArgumentException($"a {type} matrix needs a multiple of {GgmlTypes.BlockSize(type)} columns, got {cols}");
        if (data == null && rows > 0 && cols > 0)
            throw new ArgumentNullException(nameof(data), "weight data pointer is null");
        Data = data;
        Type = type;
        Rows = rows;
        Cols = cols;
        RowBytes = GgmlTypes.RowBytes(type, cols);
    }

    public byte* Data { get; }
    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long RowBytes { get; }

    /// <summary>Total bytes of the matrix.</summary>
    public long SizeInBytes => RowBytes * Rows;

    public ReadOnlySpan<byte> Row(int r)
    {
        if ((uint)r >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(r), $"row {r} is outside [0, {Rows})");
        return new ReadOnlySpan<byte>(Data + r * RowBytes, (int)RowBytes);
    }
}
