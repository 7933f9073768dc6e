// safetensors, Hugging Face's tensor file (spec: README of huggingface/safetensors), little-endian:
//   u64 N | N bytes of UTF-8 JSON header | data.
// The header is one JSON object: "__metadata__" (optional) maps strings to strings; every other key is a tensor
//   name -> { "dtype": "F32" | "F16" | "BF16" | ..., "shape": [outermost, ..., innermost],
//             "data_offsets": [begin, end] }   (byte offsets relative to the start of the data, end exclusive).
// Writers may pad the header with trailing spaces so that the data starts 8-aligned.
// As in the reference implementation (safetensors/src/tensor.rs), the tensors must tile the data exactly:
// sorted by offset, each begins where the previous ends, the first at 0 and the last at the end of the file,
// and each spans shape-product x dtype-size bytes. The header may be at most 100 MB (the reference's limit).
// Tensors are views into a memory map of the file.
using System.Text.Json;
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Safetensors;

public sealed class SafetensorsFile : IDisposable
{
    public const long MaxHeaderBytes = 100_000_000;
    const int MaxDims = 8;

    readonly MappedFile _file;
    readonly Dictionary<string, TensorEntry> _byName;

    public string Path => _file.Path;

    /// <summary>Where the tensor data starts: 8 + the header length.</summary>
    public long DataOffset { get; }

    /// <summary>The "__metadata__" strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>In header order.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    SafetensorsFile(MappedFile file, long dataOffset, Dictionary<string, string> metadata, List<TensorEntry> tensors)
    {
        _file = file;
        DataOffset = dataOffset;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name);
    }

    public TensorEntry? Find(string name) => _byName.GetValueOrDefault(name);

    public static SafetensorsFile Open(string path) => MappedFile.OpenAndParse(path, Parse);

    /// <summary>The safetensors dtype names Camelid reads, with the ggml type that has the same bytes.</summary>
    public static IReadOnlyDictionary<string, GgmlType> DTypes { get; } = new Dictionary<string, GgmlType>
    {
        ["F32"] = GgmlType.F32, ["F16"] = GgmlType.F16, ["BF16"] = GgmlType.BF16, ["F64"] = GgmlType.F64,
        ["I8"] = GgmlType.I8, ["I16"] = GgmlType.I16, ["I32"] = GgmlType.I32, ["I64"] = GgmlType.I64,
    };

    public static string DTypeName(GgmlType type) =>
        DTypes.FirstOrDefault(kv => kv.Value == type).Key
        ?? throw new ArgumentException($"{type} has no safetensors dtype (safetensors holds plain types only: {string.Join(", ", DTypes.Keys)})");

    static unsafe SafetensorsFile Parse(MappedFile file)
    {
        string p = file.Path;
        if (file.Length < 8)
            throw new ModelFormatException($"{p}: {file.Length} bytes is too short for a safetensors file (it starts with an 8-byte header length); the file is truncated");
        ulong headerLength = BitConverter.ToUInt64(file.Span(0, 8));
        if (headerLength > (ulong)(file.Length - 8))
            throw new ModelFormatException($"{p}: header length {headerLength} runs past the end of the {file.Length}-byte file; the file is truncated or not safetensors");
        if (headerLength > MaxHeaderBytes)
            throw new ModelFormatException($"{p}: header length {headerLength} is over the {MaxHeaderBytes}-byte limit of safetensors; the file is corrupted");
        long dataOffset = 8 + (long)headerLength;
        long dataLength = file.Length - dataOffset;
        var header = file.Span(8, (long)headerLength);
        if (header.Length == 0 || header[0] != (byte)'{')
            throw new ModelFormatException($"{p}: the header does not start with '{{'; not a safetensors file");

        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new ModelFormatException($"{p}: the header is not valid UTF-8; the file is corrupted");
        using var json = ParseJson(header, p);
        var metadata = new Dictionary<string, string>();
        var infos = new List<(string Name, GgmlType Type, long[] Shape, long Begin, long End)>();
        var names = new HashSet<string>();
        try
        {
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new ModelFormatException($"{p}: '{property.Name}' appears twice in the header; the file is corrupted");
                if (property.Name == "__metadata__")
                    ReadMetadata(property.Value, metadata, p);
                else
                    infos.Add(ReadTensorInfo(property.Name, property.Value, dataLength, p));
            }
        }
        catch (InvalidOperationException e) // System.Text.Json's error for a string escape that is not valid UTF-16 (a lone surrogate)
        {
            throw new ModelFormatException($"{p}: the header holds a string that is not valid Unicode ({e.Message}); the file is corrupted", e);
        }

        // The reference implementation's rule: tensors tile [0, dataLength) with neither gaps nor overlaps.
        var byOffset = infos.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long expectedBegin = 0;
        foreach (var t in byOffset)
        {
            if (t.Begin != expectedBegin)
                throw new ModelFormatException(t.Begin < expectedBegin
                    ? $"{p}: tensor '{t.Name}' (data bytes {t.Begin}..{t.End}) overlaps the tensor before it, which ends at {expectedBegin}; the file is corrupted"
                    : $"{p}: tensor '{t.Name}' starts at data byte {t.Begin} but the tensor before it ends at {expectedBegin}; safetensors leaves no gaps, so the file is corrupted");
            expectedBegin = t.End;
        }
        if (expectedBegin != dataLength)
            throw new ModelFormatException($"{p}: the tensors cover {expectedBegin} data bytes but the file holds {dataLength} after the header; the file is truncated or has trailing garbage");

        var tensors = infos.Select(t => new TensorEntry(t.Name, t.Type, t.Shape, file.Pointer + dataOffset + t.Begin, t.End - t.Begin, file)).ToList();
        return new SafetensorsFile(file, dataOffset, metadata, tensors);
    }

    static JsonDocument ParseJson(ReadOnlySpan<byte> header, string path)
    {
        try
        {
            var document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new ModelFormatException($"{path}: the header is JSON but not an object; not a safetensors file");
            }
            return document;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: the header is not valid JSON ({e.Message}); the file is corrupted or not safetensors", e);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{path}: __metadata__ must be an object of strings, got {value.ValueKind}");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException($"{path}: __metadata__ '{entry.Name}' must be a string, got {entry.Value.ValueKind}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new ModelFormatException($"{path}: __metadata__ '{entry.Name}' appears twice");
        }
    }

    static (string Name, GgmlType Type, long[] Shape, long Begin, long End) ReadTensorInfo(string name, JsonElement info, long dataLength, string path)
    {
        string Where() => $"{path}: tensor '{name}'";
        if (info.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{Where()}: expected an object with dtype, shape and data_offsets, got {info.ValueKind}");
        JsonElement Field(string field) => info.TryGetProperty(field, out var v) ? v
            : throw new ModelFormatException($"{Where()}: '{field}' is missing from the header; the file is corrupted");

        var dtypeElement = Field("dtype");
        string dtype = dtypeElement.ValueKind == JsonValueKind.String ? dtypeElement.GetString()!
            : throw new ModelFormatException($"{Where()}: dtype must be a string, got {dtypeElement.ValueKind}");
        if (!DTypes.TryGetValue(dtype, out var type))
            throw new ModelFormatException($"{Where()} has dtype {dtype}, which Camelid does not read (supported: {string.Join(", ", DTypes.Keys)}); convert the weights to F32, F16 or BF16");

        long[] shape = Integers(Field("shape"), "shape", Where());
        if (shape.Length > MaxDims)
            throw new ModelFormatException($"{Where()} has {shape.Length} dimensions (at most {MaxDims} are read); the file is corrupted");
        long[] offsets = Integers(Field("data_offsets"), "data_offsets", Where());
        if (offsets.Length != 2)
            throw new ModelFormatException($"{Where()}: data_offsets must be [begin, end], got {offsets.Length} numbers");
        long begin = offsets[0], end = offsets[1];
        if (begin > end || end > dataLength)
            throw new ModelFormatException($"{Where()}: data_offsets [{begin}, {end}] lie outside the {dataLength} data bytes of the file; the file is truncated or corrupted");

        long expected;
        try { expected = TensorEntry.ExpectedBytes(type, shape); }
        catch (OverflowException) { throw new ModelFormatException($"{Where()}: shape {TensorEntry.FormatShape(shape)} is too large; the file is corrupted"); }
        if (end - begin != expected)
            throw new ModelFormatException($"{Where()}: {dtype} {TensorEntry.FormatShape(shape)} needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}; the file is corrupted");
        return (name, type, shape, begin, end);
    }

    static long[] Integers(JsonElement array, string field, string where)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{where}: {field} must be an array of integers, got {array.ValueKind}");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new ModelFormatException($"{where}: {field} must hold non-negative integers, got {item.GetRawText()}");
            values[i++] = v;
        }
        return values;
    }

    public void Dispose() => _file.Dispose();
}
