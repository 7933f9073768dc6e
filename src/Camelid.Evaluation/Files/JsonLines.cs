using System.Text;
using System.Text.Json;

namespace Camelid.Evaluation.Files;

/// <summary>The records of a JSON-lines file and what was left of an interrupted write at its end.</summary>
public sealed record JsonLinesContent<T>(IReadOnlyList<T> Records, long TornTailBytes);

/// <summary>
/// Reads JSON-lines files (one object per line, blank lines ignored) with errors that name the file and line.
/// Files Camelid appends to are written a whole line at a time, so after a crash only the last line can be
/// incomplete, and only when it has no closing newline: that one is reported as a torn tail rather than an error
/// (when the caller allows it) and is cut off before the next append.
/// </summary>
public static class JsonLines
{
    public static JsonLinesContent<T> Read<T>(string path, Func<JsonElement, T> parse, bool allowTornTail)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found", path);
        byte[] bytes = File.ReadAllBytes(path);
        var records = new List<T>();
        int start = 0, lineNumber = 0;
        if (bytes.AsSpan().StartsWith((byte[])[0xEF, 0xBB, 0xBF]))
            start = 3;
        while (start < bytes.Length)
        {
            lineNumber++;
            int newline = Array.IndexOf(bytes, (byte)'\n', start);
            bool complete = newline >= 0;
            int end = complete ? newline : bytes.Length;
            var line = bytes.AsSpan(start, end - start);
            if (!line.IsEmpty && line[^1] == '\r')
                line = line[..^1];
            if (!IsBlank(line))
            {
                JsonDocument document;
                try
                {
                    document = JsonDocument.Parse(line.ToArray());
                }
                catch (JsonException e)
                {
                    if (!complete && allowTornTail)
                        return new JsonLinesContent<T>(records, bytes.Length - start);
                    throw new EvaluationFormatException($"{path} line {lineNumber}: not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')})", e);
                }
                using (document)
                {
                    if (document.RootElement.ValueKind != JsonValueKind.Object)
                        throw new EvaluationFormatException($"{path} line {lineNumber}: expected a JSON object, found {document.RootElement.ValueKind}");
                    try
                    {
                        records.Add(parse(document.RootElement));
                    }
                    catch (Exception e) when (e is FormatException or KeyNotFoundException or InvalidOperationException)
                    {
                        throw new EvaluationFormatException($"{path} line {lineNumber}: {e.Message}", e);
                    }
                }
            }
            start = end + 1;
        }
        return new JsonLinesContent<T>(records, 0);
    }

    static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
            if (b is not ((byte)' ' or (byte)'\t'))
                return false;
        return true;
    }

    /// <summary>Writes records to <paramref name="path"/> through a temporary file and a rename, so readers never see half a file.</summary>
    public static void Replace<T>(string path, IEnumerable<T> records, Action<Utf8JsonWriter, T> write)
    {
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            foreach (var record in records)
                stream.Write(JsonLinesAppender.Line(record, write));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>
/// Appends records to a JSON-lines file, one whole line per write followed by a flush to disk, from any
/// thread. Opening cuts off a torn last line left by a crash (and adds a missing final newline), so a
/// resumed run appends after the last complete record.
/// </summary>
public sealed class JsonLinesAppender<T> : IDisposable
{
    readonly FileStream _stream;
    readonly Action<Utf8JsonWriter, T> _write;
    readonly Lock _lock = new();

    public JsonLinesAppender(string path, Action<Utf8JsonWriter, T> write, long tornTailBytes)
    {
        _write = write;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null)
            Directory.CreateDirectory(directory);
        _stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        long length = _stream.Length - tornTailBytes;
        _stream.SetLength(length);
        if (length > 0)
        {
            _stream.Position = length - 1;
            bool endsWithNewline = _stream.ReadByte() == '\n';
            _stream.Position = length;
            if (!endsWithNewline)
                _stream.WriteByte((byte)'\n');
        }
        _stream.Flush(flushToDisk: true);
    }

    public void Append(T record)
    {
        byte[] line = JsonLinesAppender.Line(record, _write);
        lock (_lock)
        {
            _stream.Write(line);
            _stream.Flush(flushToDisk: true);
        }
    }

    public void Dispose() => _stream.Dispose();
}

public static class JsonLinesAppender
{
    static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One record as compact JSON plus the newline, in one buffer (so it is written with one call).</summary>
    public static byte[] Line<T>(T record, Action<Utf8JsonWriter, T> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
            write(json, record);
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
