using System.Text.Json;
using Camelid.Data.Conversations;
using Camelid.Data.Formats;

namespace Camelid.Training.Data;

/// <summary>The shapes of training data (<c>--format alpaca|sharegpt|messages|text|auto</c>).</summary>
public enum TrainingDataFormat
{
    /// <summary>Decided per source by <see cref="TrainingDataFormats.Detect"/>.</summary>
    Auto,

    /// <summary>Stanford Alpaca JSON / JSON lines: {"instruction", "input", "output"}.</summary>
    Alpaca,

    /// <summary>ShareGPT / Vicuna: {"id", "conversations": [{"from": "human" | "gpt" | "system" | …, "value"}]}.</summary>
    ShareGpt,

    /// <summary>OpenAI chat fine-tuning JSON lines: {"messages": [{"role", "content"}]}.</summary>
    Messages,

    /// <summary>Plain UTF-8 text for pretraining (a file, or a folder of .txt files).</summary>
    Text,
}

/// <summary>
/// One input of a training run: a file (or a folder of .txt files for <see cref="TrainingDataFormat.Text"/>), its
/// format, and an optional quality tag. The tag implements Koala's conditional training: every example of the source
/// has it put in front of its user text ("[good] " or "[bad] " + the Alpaca instruction, or + each user message of a
/// conversation), so the model learns what each source's answers are like and is prompted with the good tag later.
/// </summary>
public sealed record DataSource(string Path, TrainingDataFormat Format = TrainingDataFormat.Auto, string? QualityTag = null);

public static class TrainingDataFormats
{
    /// <summary>"alpaca", "sharegpt" (also "vicuna"), "messages" (also "openai"), "text" or "auto", any case.</summary>
    public static TrainingDataFormat Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => TrainingDataFormat.Auto,
        "alpaca" => TrainingDataFormat.Alpaca,
        "sharegpt" or "vicuna" => TrainingDataFormat.ShareGpt,
        "messages" or "openai" => TrainingDataFormat.Messages,
        "text" => TrainingDataFormat.Text,
        _ => throw new ArgumentException($"unknown data format '{name}'; expected alpaca, sharegpt, messages, text or auto"),
    };

    /// <summary>
    /// The format of a file or folder. A folder, and a file named .txt / .text / .md, is text. Otherwise the first
    /// non-blank character decides: '[' or '{' means JSON, whose first record's keys tell the format
    /// ("conversations" → ShareGPT, "messages" → messages, "instruction" → Alpaca); anything else is text.
    /// Only the first record is read.
    /// </summary>
    public static TrainingDataFormat Detect(string path)
    {
        if (Directory.Exists(path))
            return TrainingDataFormat.Text;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: training data not found", path);
        if (Path.GetExtension(path).ToLowerInvariant() is ".txt" or ".text" or ".md")
            return TrainingDataFormat.Text;
        if (!StartsLikeJson(path))
            return TrainingDataFormat.Text;
        foreach (var first in DataFile.Read<JsonElement>(path))
        {
            return ConversationFile.DetectFormat(first) switch
            {
                DataFormat.Alpaca => TrainingDataFormat.Alpaca,
                DataFormat.ShareGpt => TrainingDataFormat.ShareGpt,
                DataFormat.Messages => TrainingDataFormat.Messages,
                _ => throw new DataFormatException(
                    $"{path}: the first record is not Alpaca, ShareGPT or messages data (no \"instruction\", \"conversations\" or \"messages\" key); give the format explicitly"),
            };
        }
        throw new DataFormatException($"{path}: no records; cannot tell the data format");
    }

    static bool StartsLikeJson(string path)
    {
        using var stream = File.OpenRead(path);
        int b;
        do b = stream.ReadByte();
        while (b is ' ' or '\t' or '\r' or '\n' or 0xEF or 0xBB or 0xBF); // blanks and the UTF-8 BOM
        return b is '[' or '{';
    }
}
