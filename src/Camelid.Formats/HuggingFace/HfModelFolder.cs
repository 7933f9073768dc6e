// A Hugging Face transformers model folder (the layout save_pretrained writes):
//   config.json                        hyper-parameters (interpreted by Camelid.Model, kept raw here)
//   model.safetensors                  all weights, or, for large models,
//   model-00001-of-0000N.safetensors   shards, with
//   model.safetensors.index.json       { "metadata": {...}, "weight_map": { tensor name: shard file name } }
//   tokenizer.model / tokenizer.json / tokenizer_config.json / generation_config.json   (each optional)
// Only safetensors weights are read: pytorch_model*.bin and *.pth files are Python pickles, which can run
// arbitrary code when loaded and have no specification; convert them with the safetensors library.
// Tensor names are HF's (model.layers.0.self_attn.q_proj.weight); shapes are outermost-first (out, in).
using System.Text.Json;

namespace Camelid.Formats.HuggingFace;

public sealed class HfModelFolder : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string SingleWeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    readonly List<Safetensors.SafetensorsFile> _shards;
    readonly Dictionary<string, TensorEntry> _byName;

    public string Directory { get; }

    /// <summary>config.json as parsed JSON; Camelid.Model maps it to its own configuration.</summary>
    public JsonElement Config { get; }

    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>The safetensors files the weights come from, in the order their tensors are listed.</summary>
    public IReadOnlyList<string> WeightFiles => _shards.Select(s => s.Path).ToList();

    public string? TokenizerModelPath { get; }
    public string? TokenizerJsonPath { get; }
    public string? TokenizerConfigPath { get; }
    public string? GenerationConfigPath { get; }
    public JsonElement? TokenizerConfig { get; }
    public JsonElement? GenerationConfig { get; }

    HfModelFolder(string directory, JsonElement config, List<Safetensors.SafetensorsFile> shards, List<TensorEntry> tensors)
    {
        Directory = directory;
        Config = config;
        _shards = shards;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name);
        TokenizerModelPath = Optional("tokenizer.model");
        TokenizerJsonPath = Optional("tokenizer.json");
        TokenizerConfigPath = Optional("tokenizer_config.json");
        GenerationConfigPath = Optional("generation_config.json");
        TokenizerConfig = TokenizerConfigPath != null ? ReadJson(TokenizerConfigPath) : null;
        GenerationConfig = GenerationConfigPath != null ? ReadJson(GenerationConfigPath) : null;
    }

    string? Optional(string name)
    {
        string path = System.IO.Path.Combine(Directory, name);
        return File.Exists(path) ? path : null;
    }

    public TensorEntry? Find(string name) => _byName.GetValueOrDefault(name);

    public static bool LooksLikeModelFolder(string directory) =>
        System.IO.Directory.Exists(directory) && File.Exists(System.IO.Path.Combine(directory, ConfigFile));

    public static HfModelFolder Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new ModelFormatException($"{directory}: folder not found");
        string configPath = System.IO.Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
            throw new ModelFormatException($"{directory}: no {ConfigFile}; a Hugging Face model folder holds config.json beside its weights (is this the right folder?)");
        var config = ReadJson(configPath);
        if (config.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{configPath}: expected a JSON object, got {config.ValueKind}");

        var shards = new List<Safetensors.SafetensorsFile>();
        try
        {
            var tensors = File.Exists(System.IO.Path.Combine(directory, IndexFile)) ? OpenSharded(directory, shards)
                : File.Exists(System.IO.Path.Combine(directory, SingleWeightsFile)) ? OpenSingle(directory, shards)
                : throw NoWeights(directory);
            return new HfModelFolder(directory, config, shards, tensors);
        }
        catch
        {
            foreach (var s in shards)
                s.Dispose();
            throw;
        }
    }

    static List<TensorEntry> OpenSingle(string directory, List<Safetensors.SafetensorsFile> shards)
    {
        var file = Safetensors.SafetensorsFile.Open(System.IO.Path.Combine(directory, SingleWeightsFile));
        shards.Add(file);
        return [.. file.Tensors];
    }

    static List<TensorEntry> OpenSharded(string directory, List<Safetensors.SafetensorsFile> shards)
    {
        string indexPath = System.IO.Path.Combine(directory, IndexFile);
        var index = ReadJson(indexPath);
        if (index.ValueKind != JsonValueKind.Object || !index.TryGetProperty("weight_map", out var weightMap) || weightMap.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{indexPath}: expected an object with a \"weight_map\" object (tensor name -> shard file)");

        var fileOf = new Dictionary<string, string>();
        var shardNames = new List<string>(); // in order of first mention, which is the order save_pretrained writes
        foreach (var entry in weightMap.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException($"{indexPath}: weight_map['{entry.Name}'] must be a file name, got {entry.Value.ValueKind}");
            string shard = entry.Value.GetString()!;
            if (shard.Length == 0 || shard != System.IO.Path.GetFileName(shard) || shard is "." or "..")
                throw new ModelFormatException($"{indexPath}: weight_map['{entry.Name}'] = \"{shard}\" is not a plain file name in the model folder");
            if (!fileOf.TryAdd(entry.Name, shard))
                throw new ModelFormatException($"{indexPath}: tensor '{entry.Name}' is listed twice in weight_map");
            if (!shardNames.Contains(shard))
                shardNames.Add(shard);
        }
        if (shardNames.Count == 0)
            throw new ModelFormatException($"{indexPath}: weight_map is empty; the index lists no weights");

        var missing = shardNames.Where(s => !File.Exists(System.IO.Path.Combine(directory, s))).ToList();
        if (missing.Count > 0)
            throw new ModelFormatException($"{directory}: shard {string.Join(", ", missing)} named in {IndexFile} is missing; download the complete model");

        var tensors = new List<TensorEntry>();
        var shardOf = new Dictionary<string, string>();
        foreach (var shardName in shardNames)
        {
            var shard = Safetensors.SafetensorsFile.Open(System.IO.Path.Combine(directory, shardName));
            shards.Add(shard);
            foreach (var t in shard.Tensors)
            {
                if (!shardOf.TryAdd(t.Name, shardName))
                    throw new ModelFormatException($"{directory}: tensor '{t.Name}' is stored in both {shardOf[t.Name]} and {shardName}; the download is inconsistent");
                tensors.Add(t);
            }
        }
        foreach (var (name, shard) in fileOf)
        {
            if (!shardOf.TryGetValue(name, out var actual))
                throw new ModelFormatException($"{directory}: tensor '{name}' is listed in {IndexFile} under {shard} but that shard does not contain it; the shard or the index is from another download");
            if (actual != shard)
                throw new ModelFormatException($"{directory}: tensor '{name}' is listed in {IndexFile} under {shard} but is stored in {actual}; the index is from another download");
        }
        return tensors;
    }

    static ModelFormatException NoWeights(string directory)
    {
        var files = System.IO.Directory.GetFiles(directory).Select(f => System.IO.Path.GetFileName(f)!).ToList();
        bool pickles = files.Any(f => f.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)
            || f.EndsWith(".pt", StringComparison.OrdinalIgnoreCase));
        var safetensors = files.Where(f => f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
        string found = pickles
            ? "it has PyTorch pickle weights (.bin/.pth), which Camelid does not read (pickles can run code and have no spec); convert them with the safetensors library (e.g. save_pretrained(..., safe_serialization=True)) or to GGUF"
            : safetensors.Count > 0
                ? $"it has {string.Join(", ", safetensors)} but neither {SingleWeightsFile} nor {IndexFile}; rename a single file to {SingleWeightsFile}, or add the index that lists the shards"
                : "it has no weight files";
        return new ModelFormatException($"{directory}: no weights found ({SingleWeightsFile} or {IndexFile} with shards): {found}");
    }

    static JsonElement ReadJson(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
                throw new ModelFormatException($"{path}: not valid UTF-8 text; the file is corrupted");
            using var document = JsonDocument.Parse(bytes,
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            CheckStrings(document.RootElement);
            return document.RootElement.Clone(); // a clone outlives the document, so nothing needs disposing later
        }
        catch (InvalidOperationException e) // a string escape that is not valid UTF-16 (a lone surrogate)
        {
            throw new ModelFormatException($"{path}: holds a string that is not valid Unicode ({e.Message})", e);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: not valid JSON ({e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot read ({e.Message})", e);
        }
    }

    /// <summary>Decodes every name and string once, so that callers reading the JSON later cannot hit a decoding error.</summary>
    static void CheckStrings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    CheckStrings(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    CheckStrings(item);
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }

    public void Dispose()
    {
        foreach (var s in _shards)
            s.Dispose();
    }
}
