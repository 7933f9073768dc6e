using System.Text.Json;
using Camelid.Formats;
using Camelid.Formats.Llama2c;

namespace Camelid.Model;

/// <summary>How rotary position frequencies are stretched for contexts longer than the model was trained on.</summary>
public abstract record RopeScaling
{
    /// <summary>Positions divided by a constant factor (Chen et al. 2023, "position interpolation").</summary>
    public sealed record Linear(double Factor) : RopeScaling;

    /// <summary>Meta's Llama 3.1 scheme: long wavelengths divided by Factor, short ones kept, a smooth band between.</summary>
    public sealed record Llama3(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalContextLength) : RopeScaling;

    /// <summary>Explicit per-frequency divisors, as GGUF stores Llama-3 scaling (tensor rope_freqs.weight).</summary>
    public sealed record Divisors(float[] Values) : RopeScaling;
}

/// <summary>
/// Hyperparameters of a LLaMA-family model, as read from the file; validated once at construction.
/// Runtime choices (context actually used, threads, sampling) are separate, see <see cref="KvCache"/>.
/// </summary>
public sealed record LlamaConfig
{
    public required int Dim { get; init; }
    public required int HiddenDim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int VocabSize { get; init; }
    /// <summary>Context length the model was trained for (used as the default runtime context).</summary>
    public required int TrainedContextLength { get; init; }
    public float RmsNormEps { get; init; } = 1e-5f;
    public double RopeTheta { get; init; } = 10000.0;
    public RopeScaling? RopeScaling { get; init; }
    public int HeadSize => Dim / Heads;
    public int KvDim => HeadSize * KvHeads;

    public void Validate(string source)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new ModelFormatException($"{source}: invalid model hyperparameters: {what}");
        }
        Require(Dim > 0 && HiddenDim > 0 && Layers > 0 && Heads > 0 && KvHeads > 0 && VocabSize > 0,
            $"dimensions must be positive (dim={Dim}, hidden={HiddenDim}, layers={Layers}, heads={Heads}, kv_heads={KvHeads}, vocab={VocabSize})");
        Require(Dim % Heads == 0, $"dim {Dim} is not divisible by heads {Heads}");
        Require(Heads % KvHeads == 0, $"heads {Heads} is not a multiple of kv_heads {KvHeads}");
        Require(HeadSize % 2 == 0, $"head size {HeadSize} must be even for rotary embeddings");
        Require(TrainedContextLength > 0, $"context length {TrainedContextLength} must be positive");
        Require(RmsNormEps > 0 && float.IsFinite(RmsNormEps), $"rms_norm_eps {RmsNormEps} must be positive");
        Require(RopeTheta > 0 && double.IsFinite(RopeTheta), $"rope theta {RopeTheta} must be positive");
        if (RopeScaling is RopeScaling.Divisors d)
            Require(d.Values.Length == HeadSize / 2, $"rope_freqs has {d.Values.Length} values, expected head_size/2 = {HeadSize / 2}");
        if (RopeScaling is RopeScaling.Linear l)
            Require(l.Factor > 0, $"linear rope scaling factor {l.Factor} must be positive");
    }

    /// <summary>Rotation frequency of each pair of a head, theta^(-2i/headSize), after any scaling.</summary>
    public float[] RopeInverseFrequencies()
    {
        int half = HeadSize / 2;
        var inv = new double[half];
        for (int i = 0; i < half; i++)
            inv[i] = 1.0 / Math.Pow(RopeTheta, 2.0 * i / HeadSize);
        switch (RopeScaling)
        {
            case RopeScaling.Linear l:
                for (int i = 0; i < half; i++) inv[i] /= l.Factor;
                break;
            case RopeScaling.Divisors d:
                for (int i = 0; i < half; i++) inv[i] /= d.Values[i];
                break;
            case RopeScaling.Llama3 s:
                // transformers' _compute_llama3_parameters (Llama 3.1 release): wavelengths longer than
                // original/low_freq_factor are divided by factor, shorter than original/high_freq_factor kept,
                // and the band between interpolated linearly in original/wavelength.
                double lowWavelen = s.OriginalContextLength / s.LowFreqFactor;
                double highWavelen = s.OriginalContextLength / s.HighFreqFactor;
                for (int i = 0; i < half; i++)
                {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowWavelen)
                        inv[i] /= s.Factor;
                    else if (wavelen >= highWavelen)
                    {
                        double smooth = (s.OriginalContextLength / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / s.Factor + smooth * inv[i];
                    }
                }
                break;
        }
        return inv.Select(x => (float)x).ToArray();
    }

    /// <summary>GGUF keys are prefixed by general.architecture; only the LLaMA family is supported.</summary>
    public static LlamaConfig FromGguf(Metadata m, int vocabSizeFromTensors, float[]? ropeDivisors)
    {
        string arch = m.GetStringOrNull("general.architecture")
            ?? throw new ModelFormatException($"{m.Source}: general.architecture is missing; this is not a model file (a vocabulary-only GGUF can only be used with `camelid tokenize`)");
        if (arch != "llama")
            throw new ModelFormatException($"{m.Source}: architecture '{arch}' is not supported; Camelid runs the LLaMA family (LLaMA 1/2/3, Alpaca, Vicuna, Koala, TinyLlama, ...)");
        int heads = m.GetInt32("llama.attention.head_count");
        int dim = m.GetInt32("llama.embedding_length");
        RopeScaling? scaling = null;
        string? scalingType = m.GetStringOrNull("llama.rope.scaling.type");
        double? factor = m.TryGetDouble("llama.rope.scaling.factor") ?? m.TryGetDouble("llama.rope.scale_linear");
        if (ropeDivisors != null)
            scaling = new RopeScaling.Divisors(ropeDivisors);
        else if (scalingType is null or "linear" && factor is double f && f != 1.0)
            scaling = new RopeScaling.Linear(f);
        else if (scalingType is not (null or "none" or "linear"))
            throw new ModelFormatException($"{m.Source}: rope scaling type '{scalingType}' is not supported (none, linear and Llama-3 rope_freqs are)");
        var config = new LlamaConfig
        {
            Dim = dim,
            HiddenDim = m.GetInt32("llama.feed_forward_length"),
            Layers = m.GetInt32("llama.block_count"),
            Heads = heads,
            KvHeads = m.TryGetInt32("llama.attention.head_count_kv") ?? heads,
            VocabSize = m.TryGetInt32("llama.vocab_size") ?? vocabSizeFromTensors,
            TrainedContextLength = m.TryGetInt32("llama.context_length") ?? 2048,
            RmsNormEps = (float)(m.TryGetDouble("llama.attention.layer_norm_rms_epsilon") ?? 1e-5),
            RopeTheta = m.TryGetDouble("llama.rope.freq_base") ?? 10000.0,
            RopeScaling = scaling,
        };
        int ropeDims = m.TryGetInt32("llama.rope.dimension_count") ?? config.HeadSize;
        if (ropeDims != config.HeadSize)
            throw new ModelFormatException($"{m.Source}: partial rotary embeddings (rope.dimension_count {ropeDims} != head size {config.HeadSize}) are not supported");
        config.Validate(m.Source);
        return config;
    }

    /// <summary>Hugging Face config.json of a LlamaForCausalLM.</summary>
    public static LlamaConfig FromHfConfig(JsonElement c, string source)
    {
        string modelType = c.TryGetProperty("model_type", out var mt) ? mt.GetString() ?? "" : "";
        if (modelType != "llama")
            throw new ModelFormatException($"{source}: model_type '{modelType}' is not supported; Camelid runs LLaMA-family models (model_type \"llama\")");
        int Int(string name) => c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32()
            : throw new ModelFormatException($"{source}: config.json has no integer '{name}'");
        int? OptInt(string name) => c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
        double? OptDouble(string name) => c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

        int heads = Int("num_attention_heads");
        int dim = Int("hidden_size");
        if (OptInt("head_dim") is int hd && hd != dim / heads)
            throw new ModelFormatException($"{source}: head_dim {hd} differs from hidden_size/num_attention_heads; such models are not supported");
        RopeScaling? scaling = null;
        if (c.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            string type = rs.TryGetProperty("rope_type", out var t) ? t.GetString() ?? ""
                : rs.TryGetProperty("type", out t) ? t.GetString() ?? "" : "";
            double F(string name, double? fallback = null) => rs.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble()
                : fallback ?? throw new ModelFormatException($"{source}: rope_scaling has no '{name}'");
            scaling = type switch
            {
                "linear" => new RopeScaling.Linear(F("factor")),
                "llama3" => new RopeScaling.Llama3(F("factor"), F("low_freq_factor", 1.0), F("high_freq_factor", 4.0), (int)F("original_max_position_embeddings", 8192)),
                "default" => null,
                _ => throw new ModelFormatException($"{source}: rope_scaling type '{type}' is not supported (linear and llama3 are)"),
            };
        }
        var config = new LlamaConfig
        {
            Dim = dim,
            HiddenDim = Int("intermediate_size"),
            Layers = Int("num_hidden_layers"),
            Heads = heads,
            KvHeads = OptInt("num_key_value_heads") ?? heads,
            VocabSize = Int("vocab_size"),
            TrainedContextLength = OptInt("max_position_embeddings") ?? 2048,
            RmsNormEps = (float)(OptDouble("rms_norm_eps") ?? 1e-6),
            RopeTheta = OptDouble("rope_theta") ?? 10000.0,
            RopeScaling = scaling,
        };
        config.Validate(source);
        return config;
    }

    public static LlamaConfig FromLlama2c(Llama2cHeader h, string source)
    {
        var config = new LlamaConfig
        {
            Dim = h.Dim,
            HiddenDim = h.HiddenDim,
            Layers = h.Layers,
            Heads = h.Heads,
            KvHeads = h.KvHeads,
            VocabSize = h.VocabSize,
            TrainedContextLength = h.SeqLen,
        };
        config.Validate(source);
        return config;
    }
}
