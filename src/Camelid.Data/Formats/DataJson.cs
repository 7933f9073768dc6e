using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Camelid.Data.Formats;

/// <summary>How data files are laid out: one JSON array (Alpaca, FastChat) or one JSON object per line.</summary>
public enum DataFileLayout { JsonArray, JsonLines }

/// <summary>The JSON settings every data file uses.</summary>
public static class DataJson
{
    /// <summary>
    /// Non-ASCII text is written as is, not as \uXXXX (Python's <c>ensure_ascii=False</c>), so files stay
    /// readable and about half the size for non-Latin text. HTML-sensitive characters are not escaped either:
    /// these files are training data, never embedded in a web page.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        // Explicit, so the library also works in hosts that switch reflection-based serialization off by default
        // (trimmed apps, `dotnet run app.cs`).
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>One record as a single line of JSON, without the newline (for appending to a .jsonl file).</summary>
    public static string ToLine<T>(T record) => JsonSerializer.Serialize(record, Options);

    /// <summary>".jsonl" and ".ndjson" are JSON lines; anything else is written as one JSON array.</summary>
    public static DataFileLayout LayoutForPath(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".jsonl" or ".ndjson" ? DataFileLayout.JsonLines : DataFileLayout.JsonArray;
}
