using System.Text.Json;
using Camelid.Data.Formats;

namespace Camelid.Data.Instructions;

/// <summary>
/// The append-only journal behind a resumable generation. Each finished request group is one JSON line, written
/// with a single write and flushed to disk (fsync) before the run goes on, so after a crash, SIGKILL or power
/// loss the file holds every finished group and at most one partial last line, which <see cref="Open"/> cuts
/// off. The file is held with an exclusive lock while open, so two runs cannot write the same journal.
/// </summary>
public sealed class GenerationJournal : IDisposable
{
    readonly FileStream _stream;

    GenerationJournal(FileStream stream, string path, List<JournalEntry> entries, long cutBytes)
    {
        _stream = stream;
        Path = path;
        Entries = entries;
        CutBytes = cutBytes;
    }

    public string Path { get; }

    /// <summary>The entries found when the journal was opened, in order.</summary>
    public IReadOnlyList<JournalEntry> Entries { get; }

    /// <summary>Bytes of a partial last line removed on opening (0 when the last run ended cleanly).</summary>
    public long CutBytes { get; }

    /// <summary>Opens or creates the journal, reads its entries and cuts off a torn last line.</summary>
    public static GenerationJournal Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new IOException($"{path} is in use, probably by another run writing the same output ({e.Message})", e);
        }
        try
        {
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            var entries = new List<JournalEntry>();
            long goodEnd = 0;
            int lineNumber = 0;
            for (int start = 0; start < bytes.Length; lineNumber++)
            {
                int newline = Array.IndexOf(bytes, (byte)'\n', start);
                bool complete = newline >= 0;
                int end = complete ? newline : bytes.Length;
                bool isLast = end + 1 >= bytes.Length;
                var line = bytes.AsSpan(start, end - start);
                start = end + 1;
                if (line.Trim(" \t\r"u8).Length == 0)
                {
                    if (complete)
                        goodEnd = end + 1;
                    continue;
                }
                JournalEntry? entry = null;
                string? problem = null;
                try
                {
                    entry = JsonSerializer.Deserialize<JournalEntry>(line, DataJson.Options);
                }
                catch (Exception e) when (e is JsonException or NotSupportedException)
                {
                    problem = e.Message.Split(" Path:")[0];
                }
                if (entry != null && complete)
                {
                    entries.Add(entry);
                    goodEnd = end + 1;
                }
                else if (isLast)
                    break; // a torn last line: everything before it stands
                else
                    throw new DataFormatException($"{path}: line {lineNumber + 1} is damaged ({problem ?? "null"}); delete the journal to start over");
            }
            long cut = stream.Length - goodEnd;
            if (cut > 0)
            {
                stream.SetLength(goodEnd);
                stream.Flush(flushToDisk: true);
            }
            stream.Seek(0, SeekOrigin.End);
            return new GenerationJournal(stream, path, entries, cut);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends one entry as one line and flushes it to disk before returning.</summary>
    public void Append(JournalEntry entry)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(entry, DataJson.Options);
        var buffer = new byte[line.Length + 1];
        line.CopyTo(buffer, 0);
        buffer[^1] = (byte)'\n';
        _stream.Write(buffer);
        _stream.Flush(flushToDisk: true);
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>The journal that goes with an output file: "data.json" → "data.journal.jsonl".</summary>
    public static string PathFor(string outputPath) => System.IO.Path.ChangeExtension(outputPath, ".journal.jsonl");
}
