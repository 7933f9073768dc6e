namespace Camelid.Model;

/// <summary>
/// Keys and values of every position processed so far, for one sequence. Sized once from the runtime
/// context length; <see cref="Length"/> positions are valid. Truncating lets a chat reuse a shared prefix.
/// </summary>
public sealed class KvCache
{
    readonly float[] _keys;   // (layers, capacity, kvDim)
    readonly float[] _values; // (layers, capacity, kvDim)

    public int Layers { get; }
    public int Capacity { get; }
    public int KvDim { get; }
    public int Length { get; private set; }

    public KvCache(int layers, int capacity, int kvDim)
    {
        if (capacity <= 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "the context length must be positive");
        Layers = layers;
        Capacity = capacity;
        KvDim = kvDim;
        long size = (long)layers * capacity * kvDim;
        if (size > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a KV cache of {capacity} positions needs {2 * size * 4 / (1 << 20)} MiB, too large; use a smaller --ctx");
        // Pinned, so a decode step can hand every sequence's cache to the worker threads as plain pointers.
        _keys = GC.AllocateArray<float>((int)size, pinned: true);
        _values = GC.AllocateArray<float>((int)size, pinned: true);
    }

    public long ByteSize => 2L * _keys.Length * sizeof(float);

    /// <summary>Key rows of a layer for positions [0, count): (count, kvDim).</summary>
    public Span<float> Keys(int layer, int count) => _keys.AsSpan(layer * Capacity * KvDim, count * KvDim);
    public Span<float> Values(int layer, int count) => _values.AsSpan(layer * Capacity * KvDim, count * KvDim);

    internal unsafe float* KeysOf(int layer) => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _keys[layer * Capacity * KvDim]);
    internal unsafe float* ValuesOf(int layer) => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _values[layer * Capacity * KvDim]);

    public Span<float> KeyAt(int layer, int position) => _keys.AsSpan((layer * Capacity + position) * KvDim, KvDim);
    public Span<float> ValueAt(int layer, int position) => _values.AsSpan((layer * Capacity + position) * KvDim, KvDim);

    /// <summary>Marks <paramref name="count"/> more positions as filled (after every layer has written them).</summary>
    internal void Advance(int count) => Length += count;

    /// <summary>Forgets every position from <paramref name="length"/> on.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public void Clear() => Length = 0;
}
