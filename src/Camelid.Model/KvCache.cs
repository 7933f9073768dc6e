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

    /// <summary>
    /// Appends positions [Length, <paramref name="end"/>) of <paramref name="source"/>, which must hold the same
    /// tokens there, computed the same way (another sequence's copy of a shared prefix).
    /// </summary>
    public void CopyFrom(KvCache source, int end)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Layers != Layers || source.KvDim != KvDim)
            throw new ArgumentException($"a cache of {source.Layers} layers × {source.KvDim} does not fit one of {Layers} × {KvDim}", nameof(source));
        if (end < Length || end > source.Length || end > Capacity)
            throw new ArgumentOutOfRangeException(nameof(end), $"positions [{Length}, {end}) are not all in the source ({source.Length}) and within capacity ({Capacity})");
        int count = (end - Length) * KvDim;
        for (int layer = 0; layer < Layers; layer++)
        {
            long from = ((long)layer * source.Capacity + Length) * KvDim, to = ((long)layer * Capacity + Length) * KvDim;
            source._keys.AsSpan((int)from, count).CopyTo(_keys.AsSpan((int)to, count));
            source._values.AsSpan((int)from, count).CopyTo(_values.AsSpan((int)to, count));
        }
        Length = end;
    }

    /// <summary>Forgets every position from <paramref name="length"/> on.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public void Clear() => Length = 0;
}
