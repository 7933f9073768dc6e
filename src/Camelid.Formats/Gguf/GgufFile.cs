// GGUF, the llama.cpp model file (spec: ggml/docs/gguf.md), little-endian throughout:
//   u32 magic "GGUF" | u32 version (2 or 3; v1 used 32-bit counts and is not read) |
//   u64 tensor_count | u64 metadata_kv_count |
//   metadata_kv_count x { string key | u32 value_type | value } |
//   tensor_count x { string name | u32 n_dims | u64 dims[n_dims] (innermost first) | u32 ggml_type | u64 offset } |
//   padding to general.alignment (default 32) | tensor data, each tensor at data_start + offset (aligned).
// A string is u64 length + UTF-8 bytes (no terminator). An array value is u32 element_type + u64 count + elements.
// Value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64.
// Every count, length and offset is checked against the file before it is used or allocated from, so a
// corrupted or hostile file fails with a ModelFormatException: tensors must lie inside the file, be aligned
// and not overlap; arrays nest at most MaxArrayNesting deep. GgufWriter writes the same layout.
using System.Text;
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Gguf;

public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>A parsed, validated GGUF file whose tensors are views into a memory map.</summary>
public sealed class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" read as little-endian u32
    public const int DefaultAlignment = 32;
    const int MaxDims = 4;
    const int MaxArrayNesting = 8;

    readonly MappedFile _file;
    readonly Dictionary<string, TensorEntry> _byName;

    public string Path => _file.Path;
    public uint Version { get; }
    public int Alignment { get; }
    public long DataOffset { get; }
    public Metadata Metadata { get; }

    /// <summary>The metadata keys in the order the file stores them (writers reproduce a file from this order).</summary>
    public IReadOnlyList<string> MetadataKeys { get; }

    public IReadOnlyList<TensorEntry> Tensors { get; }

    GgufFile(MappedFile file, uint version, int alignment, long dataOffset, Metadata metadata, List<string> keys, List<TensorEntry> tensors)
    {
        _file = file;
        Version = version;
        Alignment = alignment;
        DataOffset = dataOffset;
        Metadata = metadata;
        MetadataKeys = keys;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name);
    }

    public TensorEntry? Find(string name) => _byName.GetValueOrDefault(name);

    public static bool HasGgufMagic(string path)
    {
        if (!File.Exists(path))
            return false;
        using var fs = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        return fs.Read(head) == 4 && BitConverter.ToUInt32(head) == Magic;
    }

    public static GgufFile Open(string path) => MappedFile.OpenAndParse(path, Parse);

    static unsafe GgufFile Parse(MappedFile file)
    {
        var r = new BoundedReader(file);
        if (file.Length < 24)
            throw new ModelFormatException($"{file.Path}: {file.Length} bytes is too short for a GGUF header; the file is truncated or not a model");
        uint magic = r.U32();
        if (magic != Magic)
            throw new ModelFormatException($"{file.Path}: not a GGUF file (magic 0x{magic:X8}, expected \"GGUF\")");
        uint version = r.U32();
        if (version is not (2 or 3))
            throw new ModelFormatException($"{file.Path}: GGUF version {version} is not supported (2 and 3 are); re-convert the model with a current llama.cpp");
        ulong tensorCount = r.U64();
        ulong kvCount = r.U64();
        // Each key/value takes at least 8 + 4 bytes, each tensor info at least 8 + 4 + 4 + 8: counts beyond
        // what the file can hold are corruption, caught before any allocation sized from them.
        if (kvCount > (ulong)(file.Length / 12) || tensorCount > (ulong)(file.Length / 24))
            throw new ModelFormatException($"{file.Path}: header claims {kvCount} metadata entries and {tensorCount} tensors, more than a {file.Length}-byte file can hold; the file is corrupted");

        // Capacities are capped: a corrupted count in a large file must not reserve gigabytes up front.
        var entries = new Dictionary<string, object>((int)Math.Min(kvCount, 1024));
        var keys = new List<string>((int)Math.Min(kvCount, 1024));
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = r.String();
            var type = (GgufValueType)r.U32();
            object value = r.Value(type, key, depth: 0);
            if (!entries.TryAdd(key, value))
                throw new ModelFormatException($"{file.Path}: metadata key '{key}' appears twice; the file is corrupted");
            keys.Add(key);
        }
        var metadata = new Metadata(entries, file.Path);

        int alignment = DefaultAlignment;
        if (entries.ContainsKey("general.alignment"))
        {
            long a = metadata.GetInt64("general.alignment");
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
                throw new ModelFormatException($"{file.Path}: general.alignment = {a} is not a power of two");
            alignment = (int)a;
        }

        var infos = new List<(string Name, long[] Shape, GgmlType Type, ulong Offset)>((int)Math.Min(tensorCount, 4096));
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = r.String();
            uint nDims = r.U32();
            if (nDims > MaxDims)
                throw new ModelFormatException($"{file.Path}: tensor '{name}' has {nDims} dimensions (at most {MaxDims}); the file is corrupted");
            var shape = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong dim = r.U64();
                // A zero dimension (an empty tensor) is legal in ggml; a dimension beyond 8 elements per byte
                // of the file cannot be backed by data and would overflow the size arithmetic.
                if (dim > (ulong)file.Length * 8)
                    throw new ModelFormatException($"{file.Path}: tensor '{name}' has dimension {dim}; the file is corrupted");
                shape[nDims - 1 - d] = (long)dim; // GGUF lists innermost first; we keep outermost first
            }
            uint rawType = r.U32();
            if (!GgmlTypes.IsDefined(rawType))
                throw new ModelFormatException($"{file.Path}: tensor '{name}' has unknown type {rawType}; this file needs a newer Camelid or a re-quantization to a supported type");
            ulong offset = r.U64();
            infos.Add((name, shape, (GgmlType)rawType, offset));
        }

        long dataOffset = AlignUp(r.Position, alignment);
        var tensors = new List<TensorEntry>(infos.Count);
        var seen = new HashSet<string>();
        var extents = new List<(long Begin, long End, string Name)>(infos.Count);
        foreach (var (name, shape, type, offset) in infos)
        {
            if (!seen.Add(name))
                throw new ModelFormatException($"{file.Path}: tensor '{name}' appears twice; the file is corrupted");
            if (!GgmlTypes.IsSupported(type))
                throw new ModelFormatException($"{file.Path}: tensor '{name}' has type {type}, which Camelid does not support yet (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K); re-quantize the model to one of these");
            if (offset % (ulong)alignment != 0)
                throw new ModelFormatException($"{file.Path}: tensor '{name}' offset {offset} is not aligned to {alignment}; the file is corrupted");
            long bytes;
            try { bytes = TensorEntry.ExpectedBytes(type, shape); }
            catch (OverflowException) { throw new ModelFormatException($"{file.Path}: tensor '{name}' shape {TensorEntry.FormatShape(shape)} is too large; the file is corrupted"); }
            // Compared as "offset <= room" and "bytes <= room - offset" so that no sum can overflow.
            long room = file.Length - dataOffset;
            if (room < 0 || offset > (ulong)room || bytes > room - (long)offset)
                throw new ModelFormatException($"{file.Path}: tensor '{name}' ({type} {TensorEntry.FormatShape(shape)}, {bytes} bytes at offset {offset}) extends past the end of the file ({file.Length} bytes); the file is truncated — download it again");
            if (bytes > 0)
                extents.Add(((long)offset, (long)offset + bytes, name));
            tensors.Add(new TensorEntry(name, type, shape, file.Pointer + dataOffset + (long)offset, bytes, file));
        }
        // llama.cpp lays tensors out back to back; overlapping ones mean a corrupted tensor table.
        extents.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        for (int i = 1; i < extents.Count; i++)
            if (extents[i].Begin < extents[i - 1].End)
                throw new ModelFormatException($"{file.Path}: tensor '{extents[i].Name}' (bytes {extents[i].Begin}..{extents[i].End}) overlaps tensor '{extents[i - 1].Name}' (bytes {extents[i - 1].Begin}..{extents[i - 1].End}); the file is corrupted");
        return new GgufFile(file, version, alignment, dataOffset, metadata, keys, tensors);
    }

    internal static long AlignUp(long x, long alignment) => (x + alignment - 1) / alignment * alignment;

    public void Dispose() => _file.Dispose();

    /// <summary>Reads primitives from the mapped file, failing with a format error at the end instead of overrunning.</summary>
    sealed unsafe class BoundedReader(MappedFile file)
    {
        public long Position { get; private set; }

        ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || n > file.Length - Position)
                throw new ModelFormatException($"{file.Path}: unexpected end of file at byte {Position} while reading the header ({file.Length} bytes); the file is truncated or corrupted");
            var span = new ReadOnlySpan<byte>(file.Pointer + Position, (int)n);
            Position += n;
            return span;
        }

        public byte U8() => Take(1)[0];
        public ushort U16() => BitConverter.ToUInt16(Take(2));
        public uint U32() => BitConverter.ToUInt32(Take(4));
        public ulong U64() => BitConverter.ToUInt64(Take(8));
        public float F32() => BitConverter.ToSingle(Take(4));
        public double F64() => BitConverter.ToDouble(Take(8));

        public string String()
        {
            ulong length = U64();
            if (length > (ulong)(file.Length - Position))
                throw new ModelFormatException($"{file.Path}: a string of {length} bytes at byte {Position} runs past the end of the file; the file is truncated or corrupted");
            if (length > int.MaxValue)
                throw new ModelFormatException($"{file.Path}: a string of {length} bytes at byte {Position} is longer than 2 GiB; the file is corrupted");
            return Encoding.UTF8.GetString(Take((long)length));
        }

        public object Value(GgufValueType type, string key, int depth) => type switch
        {
            GgufValueType.UInt8 => U8(),
            GgufValueType.Int8 => (sbyte)U8(),
            GgufValueType.UInt16 => U16(),
            GgufValueType.Int16 => (short)U16(),
            GgufValueType.UInt32 => U32(),
            GgufValueType.Int32 => (int)U32(),
            GgufValueType.Float32 => F32(),
            GgufValueType.Bool => U8() != 0,
            GgufValueType.String => String(),
            GgufValueType.UInt64 => U64(),
            GgufValueType.Int64 => (long)U64(),
            GgufValueType.Float64 => F64(),
            GgufValueType.Array => Array(key, depth + 1),
            _ => throw new ModelFormatException($"{file.Path}: metadata '{key}' has unknown value type {(uint)type}; the file is corrupted"),
        };

        Array Array(string key, int depth)
        {
            if (depth > MaxArrayNesting)
                throw new ModelFormatException($"{file.Path}: metadata '{key}' nests arrays more than {MaxArrayNesting} deep; the file is corrupted");
            var elementType = (GgufValueType)U32();
            ulong count = U64();
            long minSize = elementType switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
                GgufValueType.Array => 12,
                _ => throw new ModelFormatException($"{file.Path}: metadata '{key}' is an array of unknown type {(uint)elementType}; the file is corrupted"),
            };
            if (count > (ulong)((file.Length - Position) / minSize))
                throw new ModelFormatException($"{file.Path}: metadata '{key}' claims {count} elements, more than the rest of the file can hold; the file is truncated or corrupted");
            if (count > (ulong)System.Array.MaxLength)
                throw new ModelFormatException($"{file.Path}: metadata '{key}' claims {count} elements, more than an array can hold; the file is corrupted");
            int n = (int)count;
            switch (elementType)
            {
                case GgufValueType.UInt8: return Take(n).ToArray();
                case GgufValueType.Int8: { var a = new sbyte[n]; for (int i = 0; i < n; i++) a[i] = (sbyte)U8(); return a; }
                case GgufValueType.UInt16: { var a = new ushort[n]; for (int i = 0; i < n; i++) a[i] = U16(); return a; }
                case GgufValueType.Int16: { var a = new short[n]; for (int i = 0; i < n; i++) a[i] = (short)U16(); return a; }
                case GgufValueType.UInt32: { var a = new uint[n]; for (int i = 0; i < n; i++) a[i] = U32(); return a; }
                case GgufValueType.Int32: { var a = new int[n]; for (int i = 0; i < n; i++) a[i] = (int)U32(); return a; }
                case GgufValueType.Float32: { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = F32(); return a; }
                case GgufValueType.Bool: { var a = new bool[n]; for (int i = 0; i < n; i++) a[i] = U8() != 0; return a; }
                case GgufValueType.UInt64: { var a = new ulong[n]; for (int i = 0; i < n; i++) a[i] = U64(); return a; }
                case GgufValueType.Int64: { var a = new long[n]; for (int i = 0; i < n; i++) a[i] = (long)U64(); return a; }
                case GgufValueType.Float64: { var a = new double[n]; for (int i = 0; i < n; i++) a[i] = F64(); return a; }
                // Variable-size elements grow a list, so memory follows the data actually present rather than
                // a count that may be corrupted.
                case GgufValueType.String: { var a = new List<string>(Math.Min(n, 1 << 16)); for (int i = 0; i < n; i++) a.Add(String()); return a.ToArray(); }
                default: { var a = new List<Array>(Math.Min(n, 1 << 16)); for (int i = 0; i < n; i++) a.Add(Array(key, depth + 1)); return a.ToArray(); }
            }
        }
    }
}
