using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Camelid.Data.Formats;

namespace Camelid.Data.Nano;

/// <summary>One held-out line: the skill, the prompt (without the answer) and the exact answer expected.</summary>
public sealed record NanoHeldOutRecord(
    [property: JsonPropertyName("skill")] string Skill,
    [property: JsonPropertyName("messages")] IReadOnlyList<OpenAiMessage> Messages,
    [property: JsonPropertyName("expected")] string Expected);

/// <summary>
/// Camelid-Nano's data files. Training examples are OpenAI <c>messages</c> JSON lines, what <c>camelid finetune</c>
/// reads (the loss falls on every assistant turn). Held-out examples are JSON lines of <see cref="NanoHeldOutRecord"/>.
/// Prose is documents separated by blank lines, what <c>camelid pretrain</c> reads. Every file is written beside its
/// path and renamed into place, so an interrupted run leaves no half file.
/// </summary>
public static class NanoDataFiles
{
    public static int WriteTraining(string path, IEnumerable<NanoExample> examples)
    {
        using var writer = new DataFileWriter<OpenAiMessagesRecord>(path, DataFileLayout.JsonLines);
        foreach (var example in examples)
            writer.Write(new OpenAiMessagesRecord([.. example.Messages.Select(m => new OpenAiMessage(m.Role, m.Content))]));
        writer.Commit();
        return writer.Count;
    }

    public static int WriteHeldOut(string path, IEnumerable<NanoExample> examples)
    {
        using var writer = new DataFileWriter<NanoHeldOutRecord>(path, DataFileLayout.JsonLines);
        foreach (var example in examples)
            writer.Write(new NanoHeldOutRecord(NanoSkills.Name(example.Skill),
                [.. example.Prompt.Select(m => new OpenAiMessage(m.Role, m.Content))], example.ExpectedAnswer));
        writer.Commit();
        return writer.Count;
    }

    public static List<NanoExample> ReadHeldOut(string path)
    {
        var examples = new List<NanoExample>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            NanoHeldOutRecord record;
            try
            {
                record = JsonSerializer.Deserialize<NanoHeldOutRecord>(line, DataJson.Options)
                         ?? throw new JsonException("null record");
            }
            catch (JsonException e)
            {
                throw new DataFormatException($"{path}: line {lineNumber}: not a held-out record ({e.Message})");
            }
            List<(string Role, string Content)> messages = [.. record.Messages.Select(m => (m.Role, m.Content)), (NanoExample.Assistant, record.Expected)];
            examples.Add(new NanoExample(NanoSkills.Parse(record.Skill), messages, record.Expected));
        }
        return examples;
    }

    /// <summary>Writes the documents separated by blank lines; returns how many and the file's size in bytes.</summary>
    public static (int Documents, long Bytes) WriteProse(string path, IEnumerable<string> documents)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Guid.NewGuid():N}.tmp";
        int count = 0;
        try
        {
            using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false), 1 << 16))
            {
                foreach (string document in documents)
                {
                    if (count > 0)
                        writer.Write("\n\n");
                    writer.Write(document);
                    count++;
                }
                writer.Write('\n');
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        return (count, new FileInfo(full).Length);
    }
}
