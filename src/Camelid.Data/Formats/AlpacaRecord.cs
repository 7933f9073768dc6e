using System.Text.Json.Serialization;

namespace Camelid.Data.Formats;

/// <summary>
/// One Alpaca example: <c>{"instruction": "...", "input": "...", "output": "..."}</c>, as in
/// tatsu-lab/stanford_alpaca's alpaca_data.json. <see cref="Input"/> is "" when the task needs no input;
/// a missing or null field reads as "".
/// </summary>
public sealed record AlpacaRecord
{
    public AlpacaRecord(string? instruction, string? input, string? output)
    {
        Instruction = instruction ?? "";
        Input = input ?? "";
        Output = output ?? "";
    }

    [JsonPropertyName("instruction")] public string Instruction { get; init; }
    [JsonPropertyName("input")] public string Input { get; init; }
    [JsonPropertyName("output")] public string Output { get; init; }
}
