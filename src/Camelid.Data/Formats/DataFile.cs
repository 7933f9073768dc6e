using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Camelid.Data.Formats;

/// <summary>
/// Streams records of type <typeparamref name="T"/> from a JSON array file or a JSON-lines file, whichever it
/// is (decided by the first non-blank character: '[' array, '{' lines), holding only a buffer's worth of
/// records at a time, so a 600 MB ShareGPT dump is never loaded whole. Errors name the file and the line.
/// </summary>
public static class DataFile
{
    public static async IAsyncEnumerable<T> ReadAsync<T>(string path, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: file not found", path);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                                                FileOptions.Asynchronous | FileOptions.SequentialScan);
        var layout = DetectLayout(stream, path);
        if (layout == null)
            yield break;
        stream.Position = 0; // the serializer skips a UTF-8 BOM itself
        var records = JsonSerializer.DeserializeAsyncEnumerable<T>(stream, topLevelValues: layout == DataFileLayout.JsonLines,
                                                                    DataJson.Options, cancellation);
        await using var e = records.GetAsyncEnumerator(cancellation);
        for (int index = 1; ; index++)
        {
            T? record;
            try
            {
                if (!await e.MoveNextAsync())
                    yield break;
                record = e.Current;
            }
            catch (JsonException ex)
            {
                // The serializer parses a buffer of records ahead, so the record count can lag: the line is what is exact.
                throw new DataFormatException($"{path}: line {ex.LineNumber + 1}: {FirstSentence(ex.Message)}", ex);
            }
            yield return record ?? throw new DataFormatException($"{path}: record {index} is null");
        }
    }

    /// <summary>Synchronous twin of <see cref="ReadAsync{T}"/>.</summary>
    public static IEnumerable<T> Read<T>(string path) => ReadAsync<T>(path).ToBlockingEnumerable();

    /// <summary>Writes all records (layout from the extension unless given), replacing the file atomically.</summary>
    public static int Write<T>(string path, IEnumerable<T> records, DataFileLayout? layout = null)
    {
        using var writer = new DataFileWriter<T>(path, layout);
        foreach (var record in records)
            writer.Write(record);
        writer.Commit();
        return writer.Count;
    }

    /// <summary>Reads the first non-blank byte: '[' is an array, '{' JSON lines, an empty file has no layout.</summary>
    static DataFileLayout? DetectLayout(Stream stream, string path)
    {
        int b;
        do b = stream.ReadByte();
        while (b is ' ' or '\t' or '\r' or '\n' or 0xEF or 0xBB or 0xBF); // blanks and the UTF-8 BOM
        return b switch
        {
            -1 => null,
            '[' => DataFileLayout.JsonArray,
            '{' => DataFileLayout.JsonLines,
            _ => throw new DataFormatException($"{path}: expected a JSON array ('[') or JSON lines (one object per line), found '{(char)b}'"),
        };
    }

    // System.Text.Json messages end with " Path: $[3] | LineNumber: 10 | BytePositionInLine: 5."; the line is reported separately.
    static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
