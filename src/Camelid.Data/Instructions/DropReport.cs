using System.Text.Json;
using System.Text.Json.Serialization;
using Camelid.Data.Formats;

namespace Camelid.Data.Instructions;

/// <summary>
/// The side report of a generation (<c>OUT.dropped.json</c>): counts by reason, then every dropped candidate
/// with its reason, detail, and the most similar kept instruction with its ROUGE-L score.
/// </summary>
public sealed record DropReport(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("records")] int Records,
    [property: JsonPropertyName("dropped")] int Dropped,
    [property: JsonPropertyName("by_reason")] IReadOnlyDictionary<string, int> ByReason,
    [property: JsonPropertyName("candidates")] IReadOnlyList<DroppedCandidate> Candidates)
{
    static readonly JsonSerializerOptions Indented = new(DataJson.Options) { WriteIndented = true };

    /// <summary>Writes the report atomically (a temporary file renamed over the old one).</summary>
    public static void Write(string path, GenerationMode mode, int records, IReadOnlyList<DroppedCandidate> dropped)
    {
        var byReason = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var d in dropped)
            byReason[d.Reason] = byReason.GetValueOrDefault(d.Reason) + 1;
        var report = new DropReport(mode == GenerationMode.Alpaca ? "alpaca" : "self-instruct", records, dropped.Count, byReason, dropped);
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                JsonSerializer.Serialize(stream, report, Indented);
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public static DropReport Read(string path) =>
        JsonSerializer.Deserialize<DropReport>(File.ReadAllBytes(path), DataJson.Options)
        ?? throw new DataFormatException($"{path}: not a drop report");
}
