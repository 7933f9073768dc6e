// LoRA adapters in PEFT's format, so adapters move to and from the Python ecosystem:
//   adapter_config.json        LoraConfig.to_dict(): peft_type "LORA", task_type "CAUSAL_LM", r, lora_alpha, lora_dropout,
//                              target_modules, use_rslora, rank_pattern/alpha_pattern (per-module overrides), …
//   adapter_model.safetensors  base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight (r, in) and
//                              ….lora_B.weight (out, r) per adapted module (F32, F16 or BF16); the head's are
//                              base_model.model.lm_head.lora_A.weight and ….lora_B.weight.
// Hugging Face's q_proj/k_proj rows are in rotate-half order, so lora_B of those two modules has its rows permuted
// on the way in (to Meta's interleaved pairs, the order of every matrix inside Camelid) and back on the way out.
// What PEFT can express but Camelid does not apply (DoRA, LoRA biases, fully trained modules_to_save, adapters on
// the embedding or head) is refused with a message rather than silently dropped.
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Camelid.Formats;
using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Adapters;

/// <summary>LoRA hyperparameters (PEFT's defaults, FastChat's targets).</summary>
public sealed record LoraConfig
{
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; } = 0.05;
    public IReadOnlyList<BlockMatrix> Targets { get; init; } = BlockMatrices.DefaultTargets;
    /// <summary>rsLoRA (Kalajdzievski 2023): scale α/√r instead of α/r.</summary>
    public bool UseRsLora { get; init; }
    /// <summary>Recorded as base_model_name_or_path.</summary>
    public string? BaseModel { get; init; }

    public float Scale => ScaleFor(Rank, Alpha, UseRsLora);

    public static float ScaleFor(int rank, double alpha, bool rsLora) => (float)(rsLora ? alpha / Math.Sqrt(rank) : alpha / rank);

    public void Validate()
    {
        if (Rank < 1)
            throw new ArgumentException($"--lora-r must be at least 1, got {Rank}");
        if (!(Alpha > 0) || !double.IsFinite(Alpha))
            throw new ArgumentException($"--lora-alpha must be positive, got {Alpha}");
        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout))
            throw new ArgumentException($"--lora-dropout must be in [0, 1), got {Dropout}");
        if (Targets.Count == 0)
            throw new ArgumentException("--lora-targets names no matrix");
    }
}

/// <summary>One adapted matrix: W' = W + Scale·B·A, A (Rank, In), B (Out, Rank) with rows in Meta's order.</summary>
public sealed record LoraMatrix(int Layer, BlockMatrix Target, int Rank, int InFeatures, int OutFeatures, float[] A, float[] B, float Scale);

public sealed class LoraAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    public LoraAdapter(LoraConfig config, IReadOnlyList<LoraMatrix> matrices)
    {
        Config = config;
        Matrices = matrices;
    }

    public LoraConfig Config { get; }
    public IReadOnlyList<LoraMatrix> Matrices { get; }

    public long ParameterCount => Matrices.Sum(m => (long)m.A.Length + m.B.Length);

    /// <summary>Reads a PEFT adapter folder (or its adapter_config.json) for a model of configuration <paramref name="model"/>.</summary>
    public static LoraAdapter Load(string path, LlamaConfig model)
    {
        string folder = File.Exists(path) && Path.GetFileName(path) == ConfigFile ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        if (!Directory.Exists(folder))
            throw new ModelFormatException($"{path}: no such adapter folder (expected a folder with {ConfigFile} and {WeightsFile})");
        string configPath = Path.Combine(folder, ConfigFile), weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(configPath))
            throw new ModelFormatException($"{folder}: {ConfigFile} is missing; is this a PEFT LoRA adapter folder?");
        if (!File.Exists(weightsPath))
            throw new ModelFormatException(File.Exists(Path.Combine(folder, "adapter_model.bin"))
                ? $"{folder}: only adapter_model.bin (a PyTorch pickle) is present; Camelid reads {WeightsFile}. Re-save the adapter with PEFT's save_pretrained(safe_serialization=True)."
                : $"{folder}: {WeightsFile} is missing");

        var settings = PeftSettings.Read(configPath);
        using var file = SafetensorsFile.Open(weightsPath);
        var pairs = new SortedDictionary<(int Layer, BlockMatrix Target), (TensorEntry? A, TensorEntry? B)>();
        foreach (var tensor in file.Tensors)
        {
            var (layer, target, isA) = ParseName(tensor.Name, weightsPath);
            var pair = pairs.GetValueOrDefault((layer, target));
            pairs[(layer, target)] = isA ? (tensor, pair.B) : (pair.A, tensor);
        }
        if (pairs.Count == 0)
            throw new ModelFormatException($"{weightsPath}: holds no LoRA tensors");

        var matrices = new List<LoraMatrix>();
        foreach (var ((layer, target), (a, b)) in pairs)
        {
            string module = target.PeftModulePath(layer);
            if (a == null || b == null)
                throw new ModelFormatException($"{weightsPath}: {module} has lora_{(a == null ? "A" : "B")} missing");
            if (layer >= model.Layers)
                throw new ModelFormatException($"{weightsPath}: {module} is beyond the model's {model.Layers} layers; the adapter was made for another model");
            var (outFeatures, inFeatures) = target.Shape(model);
            int rank = checked((int)a.Rows);
            if (a.Shape.Length != 2 || a.Cols != inFeatures || b.Shape.Length != 2 || b.Rows != outFeatures || b.Cols != rank)
                throw new ModelFormatException(
                    $"{weightsPath}: {module} has lora_A {TensorEntry.FormatShape(a.Shape)} and lora_B {TensorEntry.FormatShape(b.Shape)}; " +
                    $"this model needs ({rank}, {inFeatures}) and ({outFeatures}, {rank}). The adapter was made for another model.");
            float[] bValues = b.ToFloats();
            if (target is BlockMatrix.Q or BlockMatrix.K)
                bValues = PermuteRows(bValues, outFeatures, rank, model.HeadSize, toMeta: true);
            var (rankFor, alphaFor) = settings.For(module);
            if (rankFor != rank)
                throw new ModelFormatException($"{weightsPath}: {module} has rank {rank} but {ConfigFile} says {rankFor}");
            matrices.Add(new LoraMatrix(layer, target, rank, inFeatures, outFeatures, a.ToFloats(), bValues,
                LoraConfig.ScaleFor(rank, alphaFor, settings.UseRsLora)));
        }
        var config = new LoraConfig
        {
            Rank = settings.Rank, Alpha = settings.Alpha, Dropout = settings.Dropout, UseRsLora = settings.UseRsLora,
            BaseModel = settings.BaseModel, Targets = matrices.Select(m => m.Target).Distinct().Order().ToList(),
        };
        return new LoraAdapter(config, matrices);
    }

    /// <summary>
    /// Writes the adapter as PEFT's save_pretrained does (F32 tensors); the folder is written as "DIR.partial" and
    /// renamed when complete.
    /// </summary>
    public void Save(string folder, LlamaConfig model)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(full))
            throw new IOException($"{full} is a file; give the folder to write the adapter into");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any(e => Path.GetFileName(e) is not (ConfigFile or WeightsFile or "README.md")))
            throw new IOException($"{full} exists and holds other files than an adapter's; choose another folder");
        string partial = full + ".partial";
        if (Directory.Exists(partial))
            Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(partial);
        var tensors = Matrices.SelectMany(m =>
        {
            string prefix = "base_model.model." + m.Target.PeftModulePath(m.Layer);
            float[] b = m.Target is BlockMatrix.Q or BlockMatrix.K ? PermuteRows(m.B, m.OutFeatures, m.Rank, model.HeadSize, toMeta: false) : m.B;
            return new[]
            {
                Tensor(prefix + ".lora_A.weight", m.A, m.Rank, m.InFeatures),
                Tensor(prefix + ".lora_B.weight", b, m.OutFeatures, m.Rank),
            };
        });
        SafetensorsWriter.Write(Path.Combine(partial, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(partial, ConfigFile), PeftSettings.Write(Config, Matrices));
        if (Directory.Exists(full))
            Directory.Delete(full, recursive: true);
        Directory.Move(partial, full);
    }

    static SafetensorsWriter.StreamedTensor Tensor(string name, float[] values, int rows, int cols) =>
        new(name, GgmlType.F32, [rows, cols], 4L * values.Length, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>Rows of B between HF's rotate-half order and Meta's interleaved pairs.</summary>
    static float[] PermuteRows(float[] b, int rows, int cols, int headSize, bool toMeta)
    {
        var result = new float[b.Length];
        for (int hf = 0; hf < rows; hf++)
        {
            int meta = (int)RotaryRowOrder.MetaRowOf(hf, headSize);
            var (from, to) = toMeta ? (hf, meta) : (meta, hf);
            Array.Copy(b, from * cols, result, to * cols, cols);
        }
        return result;
    }

    static readonly Regex TensorName = new(@"^(?:base_model\.model\.)?model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\.lora_(A|B)(?:\.default)?\.weight$", RegexOptions.CultureInvariant);
    static readonly Regex HeadTensorName = new(@"^(?:base_model\.model\.)?lm_head\.lora_(A|B)(?:\.default)?\.weight$", RegexOptions.CultureInvariant);

    static (int Layer, BlockMatrix Target, bool IsA) ParseName(string name, string file)
    {
        if (HeadTensorName.Match(name) is { Success: true } head)
            return (-1, BlockMatrix.Head, head.Groups[1].Value == "A");
        var match = TensorName.Match(name);
        if (!match.Success)
        {
            string why = name.Contains("lora_magnitude_vector", StringComparison.Ordinal) ? "DoRA adapters are not supported"
                : name.Contains("embed_tokens", StringComparison.Ordinal) || name.Contains("lm_head", StringComparison.Ordinal) ? "adapters or trained copies of the embedding or head are not supported"
                : name.EndsWith(".bias", StringComparison.Ordinal) ? "LoRA biases are not supported"
                : "it is not a LoRA A/B matrix of a LLaMA block";
            throw new ModelFormatException($"{file}: tensor '{name}': {why}");
        }
        if (BlockMatrices.Parse(match.Groups[3].Value) is not { } target || target == BlockMatrix.Head)
            throw new ModelFormatException($"{file}: tensor '{name}' adapts '{match.Groups[3].Value}', which is not a LLaMA block matrix");
        if (target.PeftPath() != $"{match.Groups[2].Value}.{match.Groups[3].Value}")
            throw new ModelFormatException($"{file}: tensor '{name}': {match.Groups[3].Value} belongs under {target.PeftPath()}");
        return (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), target, match.Groups[4].Value == "A");
    }

    /// <summary>The fields of adapter_config.json that decide how the weights apply.</summary>
    sealed record PeftSettings(int Rank, double Alpha, double Dropout, bool UseRsLora, string? BaseModel,
        IReadOnlyDictionary<string, int> RankPattern, IReadOnlyDictionary<string, double> AlphaPattern)
    {
        public static PeftSettings Read(string path)
        {
            JsonObject json;
            try
            {
                json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ModelFormatException($"{path}: not a JSON object");
            }
            catch (JsonException e)
            {
                throw new ModelFormatException($"{path}: not valid JSON: {e.Message}");
            }
            string? Text(string key) => json[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
            bool Flag(string key) => json[key] is JsonValue v && v.TryGetValue(out bool b) && b;
            double Number(string key, double fallback) => json[key] is JsonValue v && v.TryGetValue(out double d) ? d : fallback;

            string peftType = Text("peft_type") ?? "LORA";
            if (!peftType.Equals("LORA", StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{path}: peft_type is {peftType}; Camelid reads LoRA adapters");
            if (Flag("use_dora"))
                throw new ModelFormatException($"{path}: use_dora is true; DoRA adapters are not supported");
            if (Flag("fan_in_fan_out"))
                throw new ModelFormatException($"{path}: fan_in_fan_out is true (GPT-2 Conv1D layout); LLaMA adapters do not use it");
            if (Text("bias") is { } bias && bias != "none")
                throw new ModelFormatException($"{path}: bias is '{bias}'; LoRA biases are not supported");
            if (json["modules_to_save"] is JsonArray { Count: > 0 } saved)
                throw new ModelFormatException($"{path}: modules_to_save ({saved.ToJsonString()}) holds fully trained modules, which Camelid does not apply");
            if (Text("task_type") is { } task && task != "CAUSAL_LM")
                throw new ModelFormatException($"{path}: task_type is {task}; Camelid applies CAUSAL_LM adapters");
            int rank = (int)Number("r", 8);
            return new PeftSettings(rank, Number("lora_alpha", 8), Number("lora_dropout", 0), Flag("use_rslora"), Text("base_model_name_or_path"),
                Pattern(json["rank_pattern"], n => (int)n), Pattern(json["alpha_pattern"], n => n));
        }

        static Dictionary<string, T> Pattern<T>(JsonNode? node, Func<double, T> convert) =>
            node is JsonObject o ? o.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => convert(p.Value!.GetValue<double>())) : [];

        /// <summary>Rank and alpha of one module: a pattern key applies when it is the module's name or a dotted suffix of it (PEFT's rule).</summary>
        public (int Rank, double Alpha) For(string module)
        {
            bool Matches(string key) => module == key || module.EndsWith("." + key, StringComparison.Ordinal);
            int rank = RankPattern.Where(p => Matches(p.Key)).Select(p => (int?)p.Value).FirstOrDefault() ?? Rank;
            double alpha = AlphaPattern.Where(p => Matches(p.Key)).Select(p => (double?)p.Value).FirstOrDefault() ?? Alpha;
            return (rank, alpha);
        }

        public static string Write(LoraConfig c, IReadOnlyList<LoraMatrix> matrices)
        {
            var json = new JsonObject
            {
                ["alpha_pattern"] = new JsonObject(),
                ["auto_mapping"] = null,
                ["base_model_name_or_path"] = c.BaseModel,
                ["bias"] = "none",
                ["fan_in_fan_out"] = false,
                ["inference_mode"] = true,
                ["init_lora_weights"] = true,
                ["layer_replication"] = null,
                ["layers_pattern"] = null,
                ["layers_to_transform"] = null,
                ["loftq_config"] = new JsonObject(),
                ["lora_alpha"] = c.Alpha,
                ["lora_dropout"] = c.Dropout,
                ["megatron_config"] = null,
                ["megatron_core"] = "megatron.core",
                ["modules_to_save"] = null,
                ["peft_type"] = "LORA",
                ["r"] = c.Rank,
                ["rank_pattern"] = new JsonObject(),
                ["revision"] = null,
                ["target_modules"] = new JsonArray(matrices.Select(m => m.Target).Distinct().Order().Select(t => (JsonNode)t.PeftModule()).ToArray()),
                ["task_type"] = "CAUSAL_LM",
                ["use_dora"] = false,
                ["use_rslora"] = c.UseRsLora,
            };
            return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        }
    }
}
