// Model shapes for `camelid synth`: the hyperparameters of a few standard LLaMA models, or a JSON file with
// Hugging Face config.json field names:
//   hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, vocab_size   (required integers)
//   num_key_value_heads (default: num_attention_heads), max_position_embeddings (2048),
//   rms_norm_eps (1e-5), rope_theta (10000), tie_word_embeddings (false)
// Other fields of a real config.json (architectures, torch_dtype, ...) are ignored, so one can be used as is;
// model_type, when present, must be "llama".
using System.Text.Json;
using Camelid.Formats;

namespace Camelid.Model.Conversion;

/// <summary>A model's hyperparameters and whether its output projection shares the token embedding.</summary>
public sealed record ModelShape(string Name, LlamaConfig Config, bool TiedEmbeddings);

public static class ModelShapes
{
    /// <summary>The built-in shapes, by the name `--shape` takes.</summary>
    public static IReadOnlyDictionary<string, ModelShape> Named { get; } = new Dictionary<string, ModelShape>(StringComparer.OrdinalIgnoreCase)
    {
        // TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json.
        ["tinyllama-1.1b"] = new("tinyllama-1.1b", new LlamaConfig
        {
            Dim = 2048, HiddenDim = 5632, Layers = 22, Heads = 32, KvHeads = 4, VocabSize = 32000,
            TrainedContextLength = 2048, RmsNormEps = 1e-5f, RopeTheta = 10000,
        }, TiedEmbeddings: false),
        // LLaMA-1 7B (Touvron et al. 2023): norm_eps 1e-6.
        ["llama-7b"] = new("llama-7b", new LlamaConfig
        {
            Dim = 4096, HiddenDim = 11008, Layers = 32, Heads = 32, KvHeads = 32, VocabSize = 32000,
            TrainedContextLength = 2048, RmsNormEps = 1e-6f, RopeTheta = 10000,
        }, TiedEmbeddings: false),
        // karpathy/tinyllamas stories15M.bin header; llama2.c shares the classifier with the embedding.
        ["stories15m"] = new("stories15m", new LlamaConfig
        {
            Dim = 288, HiddenDim = 768, Layers = 6, Heads = 6, KvHeads = 6, VocabSize = 32000,
            TrainedContextLength = 256, RmsNormEps = 1e-5f, RopeTheta = 10000,
        }, TiedEmbeddings: true),
        // karpathy/tinyllamas stories260K.bin header (see ../shared/data/README.md), shared classifier.
        ["stories260k"] = new("stories260k", new LlamaConfig
        {
            Dim = 64, HiddenDim = 172, Layers = 5, Heads = 8, KvHeads = 4, VocabSize = 512,
            TrainedContextLength = 512, RmsNormEps = 1e-5f, RopeTheta = 10000,
        }, TiedEmbeddings: true),
    };

    /// <summary>A built-in shape by name, or else a JSON shape file at that path.</summary>
    public static ModelShape Resolve(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (Named.TryGetValue(nameOrPath, out var shape))
            return shape;
        if (File.Exists(nameOrPath))
            return FromJsonFile(nameOrPath);
        throw new ArgumentException($"unknown shape '{nameOrPath}': use one of {string.Join(", ", Named.Keys)} or the path of a JSON shape file (config.json field names)");
    }

    public static ModelShape FromJsonFile(string path)
    {
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: shape file not found");
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses a shape from config.json-style JSON; <paramref name="source"/> names it in errors.</summary>
    public static ModelShape FromJson(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new ModelFormatException($"{source}: not valid JSON ({e.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{source}: a shape file holds a JSON object such as {{\"hidden_size\": 64, ...}}, not a {root.ValueKind}");
            if (root.TryGetProperty("model_type", out var modelType) && modelType.ValueKind == JsonValueKind.String && modelType.GetString() != "llama")
                throw new ModelFormatException($"{source}: model_type '{modelType.GetString()}' is not supported; synth writes LLaMA models (model_type \"llama\")");

            int Int(string name, int? fallback = null)
            {
                if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
                    return fallback ?? throw new ModelFormatException($"{source}: required field '{name}' is missing");
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
                    throw new ModelFormatException($"{source}: '{name}' must be an integer, got {v.GetRawText()}");
                if (i <= 0)
                    throw new ModelFormatException($"{source}: '{name}' must be positive, got {i}");
                return i;
            }
            double Number(string name, double fallback)
            {
                if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
                    return fallback;
                if (v.ValueKind != JsonValueKind.Number)
                    throw new ModelFormatException($"{source}: '{name}' must be a number, got {v.GetRawText()}");
                return v.GetDouble();
            }
            bool Bool(string name, bool fallback)
            {
                if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
                    return fallback;
                return v.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new ModelFormatException($"{source}: '{name}' must be true or false, got {v.GetRawText()}"),
                };
            }

            int dim = Int("hidden_size"), hidden = Int("intermediate_size"), layers = Int("num_hidden_layers"), heads = Int("num_attention_heads");
            var config = new LlamaConfig
            {
                Dim = dim,
                HiddenDim = hidden,
                Layers = layers,
                Heads = heads,
                KvHeads = Int("num_key_value_heads", heads),
                VocabSize = Int("vocab_size"),
                TrainedContextLength = Int("max_position_embeddings", 2048),
                RmsNormEps = (float)Number("rms_norm_eps", 1e-5),
                RopeTheta = Number("rope_theta", 10000),
            };
            config.Validate(source);
            if (config.VocabSize < SyntheticVocabulary.MinimumSize)
                throw new ModelFormatException($"{source}: vocab_size {config.VocabSize} is too small: a LLaMA vocabulary needs <unk>, <s>, </s> and the 256 byte tokens, at least {SyntheticVocabulary.MinimumSize}");
            return new ModelShape(Path.GetFileNameWithoutExtension(source), config, Bool("tie_word_embeddings", false));
        }
    }
}
