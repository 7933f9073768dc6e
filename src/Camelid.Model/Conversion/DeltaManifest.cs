// delta.json, the manifest of a delta folder (see ModelDelta for the folder and the arithmetic).
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Camelid.Formats;
using Camelid.Formats.Llama2c;

namespace Camelid.Model.Conversion;

/// <summary>What a delta was made from and how to rebuild the target: the base's checksum, the target's format and
/// files, and every target tensor in the target file's order.</summary>
public sealed record DeltaManifest
{
    public const string FileName = "delta.json";
    public const string FormatName = "camelid-delta";
    public const int CurrentVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;
    public string Arithmetic { get; init; } = ModelDelta.ArithmeticDescription;
    public required DeltaBase Base { get; init; }
    public required DeltaTarget Target { get; init; }
    public required List<DeltaTensor> Tensors { get; init; }

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json), new UTF8Encoding(false));

    public static DeltaManifest Read(string deltaDirectory)
    {
        string path = Path.Combine(deltaDirectory, FileName);
        if (!Directory.Exists(deltaDirectory))
            throw new ModelFormatException($"{deltaDirectory}: no such delta folder");
        if (!File.Exists(path))
            throw new ModelFormatException($"{deltaDirectory}: not a delta folder (no {FileName}); make one with `camelid delta make`");
        DeltaManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<DeltaManifest>(File.ReadAllBytes(path), Json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: not a valid delta manifest ({e.Message})", e);
        }
        if (manifest is not { Format: FormatName })
            throw new ModelFormatException($"{path}: not a {FormatName} manifest");
        if (manifest.Version != CurrentVersion)
            throw new ModelFormatException($"{path}: delta format version {manifest.Version} is not supported (this Camelid reads version {CurrentVersion})");
        return manifest;
    }
}

/// <param name="Sha256">SHA-256 over the per-tensor digests (<see cref="DeltaTensor.BaseSha256"/>) in ordinal name order.</param>
public sealed record DeltaBase(string Sha256, string Name, int Tensors, long Parameters);

/// <param name="Format">gguf, hf or llama2c: what apply writes.</param>
/// <param name="Files">Target files kept in the delta folder as "target-NAME" (HF: every file but the weights;
/// GGUF: metadata.gguf, the target's metadata without tensors; llama2.c: its tokenizer file).</param>
/// <param name="Shards">HF: each safetensors file's __metadata__.</param>
public sealed record DeltaTarget(string Format, string Name, List<string> Files, uint? GgufVersion = null,
    int? Llama2cVersion = null, Llama2cHeader? Llama2cHeader = null, Dictionary<string, Dictionary<string, string>>? Shards = null);

/// <param name="Name">Canonical (GGUF) name; the delta tensor's name in delta.safetensors.</param>
/// <param name="StoredName">The name in the target file.</param>
/// <param name="BaseRows">Rows that are target − base; rows from here on (a vocabulary the base lacks) hold the target itself.</param>
/// <param name="BaseSha256">SHA-256 of the base tensor: name, 0, shape as i64, then its values as f32, rows in Meta's order.</param>
/// <param name="Shard">HF: the safetensors file that holds it.</param>
public sealed record DeltaTensor(string Name, string StoredName, string Dtype, long[] Shape, long BaseRows, string BaseSha256,
    int Corrections, string? Shard = null);

/// <summary>The base checksum: per tensor, then combined.</summary>
static class BaseChecksum
{
    public static IncrementalHash Begin(string name, long[] shape)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(name));
        hash.AppendData([0]);
        foreach (long d in shape)
            hash.AppendData(BitConverter.GetBytes(d));
        return hash;
    }

    public static string Combine(IEnumerable<(string Name, string Sha256)> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, sha) in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            hash.AppendData(Convert.FromHexString(sha));
        return Hex(hash.GetHashAndReset());
    }

    public static string Hex(byte[] digest) => Convert.ToHexStringLower(digest);
}
