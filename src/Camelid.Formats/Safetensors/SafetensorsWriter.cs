// Writes the safetensors layout that SafetensorsFile reads (see its header comment for the format).
using System.Text.Encodings.Web;
using System.Text.Json;
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Safetensors;

/// <summary>Writes safetensors the way the reference implementation does, so that any safetensors reader accepts it.</summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Tensors are stored by decreasing element size and then by name (the reference library's order, which keeps
    /// every tensor aligned to its element size); the header is padded with spaces so the data starts 8-aligned.
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, GgmlType Type, long[] Shape, byte[] Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => new StreamedTensor(t.Name, t.Type, t.Shape, t.Data.Length, stream => stream.Write(t.Data))), metadata);

    /// <summary>A tensor whose bytes are written on demand, so a large model is never copied whole into memory.</summary>
    public sealed record StreamedTensor(string Name, GgmlType Type, long[] Shape, long ByteCount, Action<Stream> WriteData);

    /// <summary>The same layout, with each tensor's bytes written by its callback (which must write exactly ByteCount bytes).</summary>
    public static void Write(string path, IEnumerable<StreamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var seen = new HashSet<string>();
        foreach (var t in list)
        {
            ArgumentNullException.ThrowIfNull(t.Name);
            if (t.Name == "__metadata__")
                throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor");
            if (!seen.Add(t.Name))
                throw new ArgumentException($"tensor '{t.Name}' is given twice");
            SafetensorsFile.DTypeName(t.Type);
            long expected;
            try { expected = TensorEntry.ExpectedBytes(t.Type, t.Shape); }
            catch (ModelFormatException e) { throw new ArgumentException($"tensor '{t.Name}': {e.Message}", e); }
            if (expected != t.ByteCount)
                throw new ArgumentException($"tensor '{t.Name}': {t.Type} {TensorEntry.FormatShape(t.Shape)} needs {expected} bytes but {t.ByteCount} are given");
        }
        var ordered = list.OrderByDescending(t => GgmlTypes.BlockBytes(t.Type)).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();

        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in ordered)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", SafetensorsFile.DTypeName(t.Type));
                json.WriteStartArray("shape");
                foreach (long d in t.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteCount);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteCount;
            }
            json.WriteEndObject();
        }
        while ((8 + header.Length) % 8 != 0)
            header.WriteByte((byte)' ');

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        header.Position = 0;
        header.CopyTo(stream);
        foreach (var t in ordered)
        {
            long before = stream.Position;
            t.WriteData(stream);
            if (stream.Position - before != t.ByteCount)
                throw new InvalidOperationException($"tensor '{t.Name}': {stream.Position - before} bytes were written, {t.ByteCount} were declared");
        }
    }
}
