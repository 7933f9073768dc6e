using System.Text.Json;
using System.Text.Json.Serialization;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Tests.Reference;

/// <summary>
/// One case of tests/fixtures/logits/*.json, written by tools/make_logits_fixtures.py: the model's
/// hyperparameters, its tensors as (name, type, shape, seed, scale) recipes, the input tokens and the
/// reference logits (T, vocab) computed in float64 from the decoded weights.
/// </summary>
public sealed record LogitsFixture
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary>"gguf", "safetensors" or "llama2c".</summary>
    [JsonPropertyName("format")] public required string Format { get; init; }
    [JsonPropertyName("description")] public string Description { get; init; } = "";
    [JsonPropertyName("config")] public required FixtureConfig Config { get; init; }
    [JsonPropertyName("tokens")] public required int[] Tokens { get; init; }
    [JsonPropertyName("tensors")] public required TensorSpec[] Tensors { get; init; }
    [JsonPropertyName("logits")] public required float[][] Logits { get; init; }
    /// <summary>
    /// Quantized cases only: the reference with ggml's 8-bit activation round trip (q8_0 / q8_K) before
    /// every quantized matmul, which is what Camelid's integer dot products compute; null otherwise.
    /// </summary>
    [JsonPropertyName("logits_q8_activations")] public float[][]? LogitsQ8Activations { get; init; }

    public static LogitsFixture Load(string path)
    {
        var fixture = JsonSerializer.Deserialize<LogitsFixture>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path}: empty fixture");
        if (fixture.Logits.Length != fixture.Tokens.Length || fixture.Logits.Any(r => r.Length != fixture.Config.VocabSize))
            throw new InvalidDataException($"{path}: logits are not ({fixture.Tokens.Length}, {fixture.Config.VocabSize})");
        if (fixture.LogitsQ8Activations is { } q && (q.Length != fixture.Tokens.Length || q.Any(r => r.Length != fixture.Config.VocabSize)))
            throw new InvalidDataException($"{path}: logits_q8_activations are not ({fixture.Tokens.Length}, {fixture.Config.VocabSize})");
        return fixture;
    }

    public TensorSpec Tensor(string name) => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new InvalidDataException($"fixture {Name} has no tensor {name}");

    /// <summary>Row-major (T, vocab) reference logits.</summary>
    public float[] FlatLogits() => Logits.SelectMany(r => r).ToArray();

    public float[]? FlatLogitsQ8Activations() => LogitsQ8Activations?.SelectMany(r => r).ToArray();
}

public sealed record FixtureConfig
{
    [JsonPropertyName("dim")] public required int Dim { get; init; }
    [JsonPropertyName("hidden_dim")] public required int HiddenDim { get; init; }
    [JsonPropertyName("n_layers")] public required int Layers { get; init; }
    [JsonPropertyName("n_heads")] public required int Heads { get; init; }
    [JsonPropertyName("n_kv_heads")] public required int KvHeads { get; init; }
    [JsonPropertyName("vocab_size")] public required int VocabSize { get; init; }
    [JsonPropertyName("context_length")] public required int ContextLength { get; init; }
    [JsonPropertyName("rms_eps")] public required double RmsEps { get; init; }
    [JsonPropertyName("rope_theta")] public required double RopeTheta { get; init; }
    [JsonPropertyName("rope_scaling")] public FixtureRopeScaling? RopeScaling { get; init; }

    public int HeadSize => Dim / Heads;
}

/// <summary>Type "linear" (factor) or "llama3" (all fields), named as in HF config.json.</summary>
public sealed record FixtureRopeScaling
{
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("factor")] public required double Factor { get; init; }
    [JsonPropertyName("low_freq_factor")] public double LowFreqFactor { get; init; }
    [JsonPropertyName("high_freq_factor")] public double HighFreqFactor { get; init; }
    [JsonPropertyName("original_max_position_embeddings")] public int OriginalMaxPositionEmbeddings { get; init; }
}

/// <summary>A tensor recipe; <see cref="SyntheticTensors.Bytes"/> turns it into the stored bytes.</summary>
public sealed record TensorSpec
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }
    /// <summary>Outermost first: a matrix is (rows = out features, cols = in features).</summary>
    [JsonPropertyName("shape")] public required long[] Shape { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }
    [JsonPropertyName("scale")] public float Scale { get; init; }
    [JsonPropertyName("offset")] public float Offset { get; init; }
    /// <summary>Literal values (rope_freqs.weight) instead of generated ones.</summary>
    [JsonPropertyName("values")] public float[]? Values { get; init; }
    /// <summary>Safetensors shard index (0-based) for sharded HF cases.</summary>
    [JsonPropertyName("shard")] public int Shard { get; init; }

    public GgmlType GgmlType => GgmlTypes.TryParse(Type, out var t) ? t
        : throw new InvalidDataException($"tensor {Name}: unknown type {Type}");

    public int ElementCount => checked((int)Shape.Aggregate(1L, (a, b) => a * b));
}
