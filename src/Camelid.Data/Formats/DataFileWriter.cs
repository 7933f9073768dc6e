using System.Text.Json;

namespace Camelid.Data.Formats;

/// <summary>
/// Writes records one at a time as a JSON array (indented like Python's <c>json.dump(indent=2)</c>) or as JSON
/// lines, to a temporary file beside <c>path</c> that <see cref="Commit"/> renames over it. A run that fails or
/// is interrupted leaves the old file untouched and no half-written output; the input may even be the output.
/// </summary>
public sealed class DataFileWriter<T> : IDisposable
{
    const int FlushThreshold = 1 << 16;

    readonly string _path;
    readonly string _tempPath;
    readonly FileStream _stream;
    readonly Utf8JsonWriter _json;
    readonly DataFileLayout _layout;
    bool _committed;

    public DataFileWriter(string path, DataFileLayout? layout = null)
    {
        _path = Path.GetFullPath(path);
        _layout = layout ?? DataJson.LayoutForPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _tempPath = $"{_path}.{Guid.NewGuid():N}.tmp";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _json = new Utf8JsonWriter(_stream, new JsonWriterOptions
        {
            Encoder = DataJson.Options.Encoder,
            Indented = _layout == DataFileLayout.JsonArray,
            IndentSize = 2,
        });
        if (_layout == DataFileLayout.JsonArray)
            _json.WriteStartArray();
    }

    /// <summary>The file that <see cref="Commit"/> writes.</summary>
    public string FilePath => _path;

    /// <summary>Records written so far.</summary>
    public int Count { get; private set; }

    public void Write(T record)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        JsonSerializer.Serialize(_json, record, DataJson.Options);
        if (_layout == DataFileLayout.JsonLines)
        {
            _json.Flush();
            _stream.WriteByte((byte)'\n');
            _json.Reset(_stream);
        }
        else if (_json.BytesPending > FlushThreshold)
            _json.Flush();
        Count++;
    }

    /// <summary>Finishes the file, flushes it to disk and moves it into place.</summary>
    public void Commit()
    {
        if (_committed)
            return;
        if (_layout == DataFileLayout.JsonArray)
        {
            _json.WriteEndArray();
            _json.Flush();
            _stream.WriteByte((byte)'\n');
        }
        _json.Flush();
        _stream.Flush(flushToDisk: true);
        _json.Dispose();
        _stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed)
            return;
        _json.Dispose();
        _stream.Dispose();
        File.Delete(_tempPath);
        _committed = true;
    }
}
