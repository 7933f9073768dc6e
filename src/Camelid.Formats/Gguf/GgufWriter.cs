// Writes GGUF v3 (or v2, whose little-endian layout is identical but for the version field) in the layout
// GgufFile reads (spec: ggml/docs/gguf.md), matching llama.cpp's gguf-py GGUFWriter byte for byte:
//   header | key/values in the order added | tensor infos in the order added, offsets relative to the data
//   section, each tensor's offset rounded up to the alignment | zero padding to the alignment |
//   each tensor's bytes followed by zero padding to the alignment (the last one too).
// With no tensors nothing follows the key/values (as gguf-py's vocab-only export writes it).
// The alignment is general.alignment when it is added (an integer power of two), else 32.
// A tensor's bytes come from memory (a copy or a view) or from a callback that streams them during Write, so
// a file larger than memory (a 7B model) is written tensor by tensor with only one tensor's work in flight.
// Each CLR value type maps to one GGUF value type, the same one GgufFile returns it as, so a file read
// and written again is identical: byte u8, sbyte i8, ushort u16, short i16, uint u32, int i32, float f32,
// bool, string, ulong u64, long i64, double f64, arrays of these, and Array[] for arrays of arrays.
using System.Text;
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Gguf;

public sealed class GgufWriter
{
    const int MaxDims = 4;

    readonly List<(string Key, object Value)> _metadata = [];
    readonly HashSet<string> _keys = [];
    readonly List<PendingTensor> _tensors = [];
    readonly HashSet<string> _tensorNames = [];

    /// <summary>2 or 3 (default). Version 1 used 32-bit counts and is not written.</summary>
    public uint Version
    {
        get;
        init => field = value is 2 or 3 ? value : throw new ArgumentOutOfRangeException(nameof(Version), value, "GGUF version must be 2 or 3");
    } = 3;

    public void Add(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ValueTypeOf(value, key, depth: 0); // validates the whole value now rather than at Write
        if (key == "general.alignment")
            AlignmentOf(value);
        if (!_keys.Add(key))
            throw new ArgumentException($"metadata key '{key}' was already added", nameof(key));
        _metadata.Add((key, value));
    }

    /// <summary>A tensor to write: its bytes are either <see cref="Entry"/>'s or written by <see cref="Producer"/>.</summary>
    sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, long ByteCount, TensorEntry? Entry, Action<Stream>? Producer);

    /// <summary>Adds a tensor whose bytes are copied now.</summary>
    public void AddTensor(string name, GgmlType type, long[] shapeOutermostFirst, ReadOnlySpan<byte> data)
    {
        CheckTensor(name, type, shapeOutermostFirst, data.Length);
        var entry = TensorEntry.FromBytes(name, type, (long[])shapeOutermostFirst.Clone(), data.ToArray());
        AddChecked(new PendingTensor(name, type, entry.Shape, entry.ByteCount, entry, null));
    }

    /// <summary>Adds a tensor without copying it: its storage (e.g. a mapped file) must stay open until Write.</summary>
    public void AddTensor(TensorEntry tensor)
    {
        CheckTensor(tensor.Name, tensor.Type, tensor.Shape, tensor.ByteCount);
        AddChecked(new PendingTensor(tensor.Name, tensor.Type, tensor.Shape, tensor.ByteCount, tensor, null));
    }

    /// <summary>
    /// Adds a tensor whose bytes are produced while the file is written: Write calls <paramref name="writeData"/>
    /// once, in tensor order, and it must write exactly the bytes that <paramref name="type"/> and the shape take
    /// (fewer or more is an error). Nothing of the tensor is held in memory by the writer.
    /// </summary>
    public void AddTensor(string name, GgmlType type, long[] shapeOutermostFirst, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long expected = CheckShape(name, type, shapeOutermostFirst);
        AddChecked(new PendingTensor(name, type, (long[])shapeOutermostFirst.Clone(), expected, null, writeData));
    }

    void AddChecked(PendingTensor tensor)
    {
        if (!_tensorNames.Add(tensor.Name))
            throw new ArgumentException($"tensor '{tensor.Name}' was already added");
        _tensors.Add(tensor);
    }

    static void CheckTensor(string name, GgmlType type, long[] shape, long byteCount)
    {
        long expected = CheckShape(name, type, shape);
        if (expected != byteCount)
            throw new ArgumentException($"tensor '{name}': {type} {TensorEntry.FormatShape(shape)} needs {expected} bytes but {byteCount} are given");
    }

    /// <summary>Validates name, type and shape; returns the bytes the tensor takes.</summary>
    static long CheckShape(string name, GgmlType type, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (!GgmlTypes.IsDefined((uint)type))
            throw new ArgumentException($"tensor '{name}': {type} is not a ggml type", nameof(type));
        if (shape.Length > MaxDims)
            throw new ArgumentException($"tensor '{name}': GGUF tensors have at most {MaxDims} dimensions, got {TensorEntry.FormatShape(shape)}", nameof(shape));
        try { return TensorEntry.ExpectedBytes(type, shape); }
        catch (Exception e) when (e is ModelFormatException or OverflowException)
        {
            throw new ArgumentException($"tensor '{name}': {e.Message}", nameof(shape), e);
        }
    }

    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream);
    }

    public unsafe void Write(Stream stream)
    {
        int alignment = _metadata.FirstOrDefault(kv => kv.Key == "general.alignment") is { Value: { } a } ? AlignmentOf(a) : GgufFile.DefaultAlignment;
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        long start = stream.CanSeek ? stream.Position : 0;
        long written = 0; // counted here because a non-seekable stream cannot report its position

        w.Write(GgufFile.Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        written += 24;
        foreach (var (key, value) in _metadata)
        {
            written += WriteString(w, key);
            var type = ValueTypeOf(value, key, 0);
            w.Write((uint)type);
            written += 4 + WriteValue(w, type, value);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            written += WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            for (int d = t.Shape.Length - 1; d >= 0; d--) // GGUF lists innermost first
                w.Write((ulong)t.Shape[d]);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            written += 4 + 8L * t.Shape.Length + 4 + 8;
            offset += GgufFile.AlignUp(t.ByteCount, alignment);
        }

        if (_tensors.Count > 0)
        {
            written += Pad(w, written, alignment);
            foreach (var t in _tensors)
            {
                if (t.Entry is { } entry)
                    for (long done = 0; done < t.ByteCount;)
                    {
                        int chunk = (int)Math.Min(t.ByteCount - done, 1 << 24);
                        w.Write(new ReadOnlySpan<byte>(entry.Pointer + done, chunk));
                        done += chunk;
                    }
                else
                {
                    w.Flush();
                    var counted = new CountingStream(stream);
                    t.Producer!(counted);
                    if (counted.Count != t.ByteCount)
                        throw new InvalidOperationException($"tensor '{t.Name}': its producer wrote {counted.Count} bytes, but {t.Type} {TensorEntry.FormatShape(t.Shape)} takes {t.ByteCount}");
                }
                written += t.ByteCount;
                written += Pad(w, written, alignment);
            }
        }
        w.Flush();
        if (stream.CanSeek && stream.Position - start != written)
            throw new InvalidOperationException($"GGUF writer wrote {stream.Position - start} bytes but accounted for {written}");
    }

    /// <summary>Forwards writes to the file and counts them, so a producer that writes too little or too much is caught.</summary>
    sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Count += buffer.Length;
        }
    }

    static long Pad(BinaryWriter w, long position, int alignment)
    {
        long padding = GgufFile.AlignUp(position, alignment) - position;
        for (long i = 0; i < padding; i++)
            w.Write((byte)0);
        return padding;
    }

    static long WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
        return 8 + bytes.Length;
    }

    static long WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); return 1;
            case GgufValueType.Int8: w.Write((sbyte)value); return 1;
            case GgufValueType.UInt16: w.Write((ushort)value); return 2;
            case GgufValueType.Int16: w.Write((short)value); return 2;
            case GgufValueType.UInt32: w.Write((uint)value); return 4;
            case GgufValueType.Int32: w.Write((int)value); return 4;
            case GgufValueType.Float32: w.Write((float)value); return 4;
            case GgufValueType.Bool: w.Write((byte)((bool)value ? 1 : 0)); return 1;
            case GgufValueType.String: return WriteString(w, (string)value);
            case GgufValueType.UInt64: w.Write((ulong)value); return 8;
            case GgufValueType.Int64: w.Write((long)value); return 8;
            case GgufValueType.Float64: w.Write((double)value); return 8;
            case GgufValueType.Array:
            {
                var array = (Array)value;
                var elementType = ElementTypeOf(array, "", 0);
                w.Write((uint)elementType);
                w.Write((ulong)array.Length);
                long n = 12;
                foreach (var element in array)
                    n += WriteValue(w, elementType, element!);
                return n;
            }
            default: throw new InvalidOperationException($"unhandled GGUF value type {type}");
        }
    }

    static GgufValueType ValueTypeOf(object value, string key, int depth) => value switch
    {
        byte => GgufValueType.UInt8,
        sbyte => GgufValueType.Int8,
        ushort => GgufValueType.UInt16,
        short => GgufValueType.Int16,
        uint => GgufValueType.UInt32,
        int => GgufValueType.Int32,
        float => GgufValueType.Float32,
        bool => GgufValueType.Bool,
        string => GgufValueType.String,
        ulong => GgufValueType.UInt64,
        long => GgufValueType.Int64,
        double => GgufValueType.Float64,
        Array a => CheckArray(a, key, depth),
        _ => throw new ArgumentException($"metadata '{key}': values of type {value.GetType().Name} cannot be stored in GGUF"),
    };

    static GgufValueType CheckArray(Array array, string key, int depth)
    {
        ElementTypeOf(array, key, depth);
        return GgufValueType.Array;
    }

    /// <summary>The GGUF element type of an array, checking every element (nested arrays recursively).</summary>
    static GgufValueType ElementTypeOf(Array array, string key, int depth)
    {
        if (array.Rank != 1)
            throw new ArgumentException($"metadata '{key}': GGUF arrays are one-dimensional; use an array of arrays");
        var elementType = array.GetType().GetElementType()!;
        if (elementType == typeof(Array) || elementType.IsArray)
        {
            if (depth >= 8)
                throw new ArgumentException($"metadata '{key}': arrays nest more than 8 deep, which GgufFile does not read");
            foreach (var inner in array)
            {
                if (inner is not Array a)
                    throw new ArgumentException($"metadata '{key}': an array of arrays holds a null element");
                ElementTypeOf(a, key, depth + 1);
            }
            return GgufValueType.Array;
        }
        if (elementType == typeof(string))
        {
            foreach (var s in array)
                if (s is null)
                    throw new ArgumentException($"metadata '{key}': an array of strings holds a null element");
            return GgufValueType.String;
        }
        return Type.GetTypeCode(elementType) switch
        {
            TypeCode.Byte => GgufValueType.UInt8,
            TypeCode.SByte => GgufValueType.Int8,
            TypeCode.UInt16 => GgufValueType.UInt16,
            TypeCode.Int16 => GgufValueType.Int16,
            TypeCode.UInt32 => GgufValueType.UInt32,
            TypeCode.Int32 => GgufValueType.Int32,
            TypeCode.Single => GgufValueType.Float32,
            TypeCode.Boolean => GgufValueType.Bool,
            TypeCode.UInt64 => GgufValueType.UInt64,
            TypeCode.Int64 => GgufValueType.Int64,
            TypeCode.Double => GgufValueType.Float64,
            _ => throw new ArgumentException($"metadata '{key}': arrays of {elementType.Name} cannot be stored in GGUF"),
        };
    }

    static int AlignmentOf(object value)
    {
        long a = value switch
        {
            byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
            ulong v => v <= long.MaxValue ? (long)v : -1,
            _ => throw new ArgumentException($"general.alignment must be an integer (u32 in the spec), got {value.GetType().Name}"),
        };
        if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
            throw new ArgumentException($"general.alignment = {a} is not a power of two up to 2^20");
        return (int)a;
    }
}
