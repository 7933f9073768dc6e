// The files of a Hugging Face transformers LLaMA folder (the layout save_pretrained writes, which HfModelFolder reads),
// shared by the training exporter and `camelid convert`:
//   config.json              LlamaForCausalLM hyperparameters (hidden_size, intermediate_size, num_hidden_layers,
//                            num_attention_heads, num_key_value_heads, head_dim, vocab_size, max_position_embeddings,
//                            rms_norm_eps, rope_theta, rope_scaling, tie_word_embeddings, bos/eos/pad_token_id, torch_dtype)
//   generation_config.json   bos/eos/pad ids; eos a list when the vocabulary has further end-of-turn tokens
//   model.safetensors        the weights, metadata {"format": "pt"} (transformers refuses safetensors without it);
//                            models over 5 GB as model-0000k-of-0000n.safetensors shards plus
//                            model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"}), as
//                            save_pretrained's default max_shard_size
//   tokenizer files          HfTokenizerWriter: tokenizer.model or tokenizer.json, tokenizer_config.json, special_tokens_map.json
// Q/K rows: HF checkpoints rotate each head's two halves (rotate_half), so Meta's interleaved rows are permuted
// the way transformers' convert_llama_weights_to_hf.py permutes them: HF row r·headSize/2 + i of a head is
// Meta row 2i + r (RotaryRowOrder), the inverse of HfModelLoader.UnpermuteRotaryRows.
// Per-frequency RoPE divisors (GGUF rope_freqs) have no config.json form; such a model is written as GGUF only.
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;
using Camelid.Tokenization;

namespace Camelid.Model.Conversion;

public static class HfFolderWriter
{
    /// <summary>transformers' save_pretrained default max_shard_size, "5GB".</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    public const string ConfigFile = "config.json", GenerationConfigFile = "generation_config.json";
    public const string SingleWeightsFile = "model.safetensors", IndexFile = "model.safetensors.index.json";

    static readonly JsonWriterOptions Json = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A weight to write: its HF name, type and shape, and a callback that writes exactly its bytes.</summary>
    public sealed record Weight(string Name, GgmlType Type, long[] Shape, Action<Stream> WriteData)
    {
        public long ByteCount => Formats.TensorEntry.ExpectedBytes(Type, Shape);
    }

    /// <summary>The files a model folder holds, by name; an existing folder holding only these may be replaced.</summary>
    public static bool IsModelFolderFile(string name) =>
        name is ConfigFile or GenerationConfigFile or SingleWeightsFile or IndexFile
            or HfTokenizerWriter.SentencePieceFile or HfTokenizerWriter.TokenizerJsonFile
            or HfTokenizerWriter.ConfigFile or HfTokenizerWriter.SpecialTokensMapFile
        || (name.StartsWith("model-", StringComparison.Ordinal) && name.EndsWith(".safetensors", StringComparison.Ordinal));

    /// <summary>Writes config.json, generation_config.json and the tokenizer files into <paramref name="directory"/>.</summary>
    /// <param name="dtype">The torch_dtype config.json names (the type of the weight matrices).</param>
    public static void WriteConfigAndTokenizer(string directory, LlamaConfig config, bool tiedOutput, Vocabulary vocabulary,
        GgmlType dtype, string? name, string? chatTemplate)
    {
        if (config.RopeScaling is RopeScaling.Divisors)
            throw new ArgumentException("this model's RoPE uses per-frequency divisors (GGUF rope_freqs), which config.json cannot express; write it as GGUF");
        File.WriteAllBytes(Path.Combine(directory, ConfigFile), Config(config, tiedOutput, vocabulary, dtype, name));
        File.WriteAllBytes(Path.Combine(directory, GenerationConfigFile), GenerationConfig(vocabulary));
        HfTokenizerWriter.WriteFiles(vocabulary, directory, chatTemplate, config.TrainedContextLength);
    }

    /// <summary>One safetensors file, or shards of at most <paramref name="maxShardBytes"/> (a larger tensor gets a shard
    /// of its own) with the index. Each tensor's bytes are produced while it is written, one at a time.</summary>
    public static void WriteWeights(string directory, IReadOnlyList<Weight> tensors, long maxShardBytes = DefaultMaxShardBytes)
    {
        var shards = new List<List<Weight>> { new() };
        long shardBytes = 0;
        foreach (var t in tensors)
        {
            if (shards[^1].Count > 0 && shardBytes + t.ByteCount > maxShardBytes)
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(t);
            shardBytes += t.ByteCount;
        }

        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(directory, SingleWeightsFile), Streamed(shards[0]), metadata);
            return;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int s = 0; s < shards.Count; s++)
        {
            string file = string.Create(CultureInfo.InvariantCulture, $"model-{s + 1:D5}-of-{shards.Count:D5}.safetensors");
            SafetensorsWriter.Write(Path.Combine(directory, file), Streamed(shards[s]), metadata);
            foreach (var t in shards[s])
                weightMap[t.Name] = file;
        }
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Json))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", tensors.Sum(t => t.ByteCount));
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap)
                w.WriteString(name, file);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        File.WriteAllBytes(Path.Combine(directory, IndexFile), stream.ToArray());
    }

    static IEnumerable<SafetensorsWriter.StreamedTensor> Streamed(List<Weight> shard) =>
        shard.Select(t => new SafetensorsWriter.StreamedTensor(t.Name, t.Type, t.Shape, t.ByteCount, t.WriteData));

    public static byte[] Config(LlamaConfig c, bool tiedOutput, Vocabulary v, GgmlType dtype, string? name)
    {
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Json))
        {
            w.WriteStartObject();
            if (name != null)
                w.WriteString("_name_or_path", name);
            w.WriteStartArray("architectures");
            w.WriteStringValue("LlamaForCausalLM");
            w.WriteEndArray();
            w.WriteBoolean("attention_bias", false);
            w.WriteNumber("attention_dropout", 0.0);
            WriteTokenId(w, "bos_token_id", v.BosId);
            WriteTokenId(w, "eos_token_id", v.EosId);
            w.WriteNumber("head_dim", c.HeadSize);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("hidden_size", c.Dim);
            w.WriteNumber("initializer_range", 0.02);
            w.WriteNumber("intermediate_size", c.HiddenDim);
            w.WriteNumber("max_position_embeddings", c.TrainedContextLength);
            w.WriteBoolean("mlp_bias", false);
            w.WriteString("model_type", "llama");
            w.WriteNumber("num_attention_heads", c.Heads);
            w.WriteNumber("num_hidden_layers", c.Layers);
            w.WriteNumber("num_key_value_heads", c.KvHeads);
            if (v.PaddingId is int pad)
                w.WriteNumber("pad_token_id", pad);
            w.WriteNumber("pretraining_tp", 1);
            // The shortest decimal that reads back as the same float (1e-05, not 9.999999747378752e-06).
            w.WriteNumber("rms_norm_eps", double.Parse(c.RmsNormEps.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
            w.WritePropertyName("rope_scaling");
            WriteRopeScaling(w, c.RopeScaling);
            w.WriteNumber("rope_theta", c.RopeTheta);
            w.WriteBoolean("tie_word_embeddings", tiedOutput);
            w.WriteString("torch_dtype", DTypeName(dtype));
            w.WriteBoolean("use_cache", true);
            w.WriteNumber("vocab_size", c.VocabSize);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    static void WriteRopeScaling(Utf8JsonWriter w, RopeScaling? scaling)
    {
        switch (scaling)
        {
            case null:
                w.WriteNullValue();
                break;
            case RopeScaling.Linear linear:
                // "type" rather than "rope_type": read by every transformers version since linear scaling was added.
                w.WriteStartObject();
                w.WriteNumber("factor", linear.Factor);
                w.WriteString("type", "linear");
                w.WriteEndObject();
                break;
            case RopeScaling.Llama3 llama3:
                w.WriteStartObject();
                w.WriteNumber("factor", llama3.Factor);
                w.WriteNumber("high_freq_factor", llama3.HighFreqFactor);
                w.WriteNumber("low_freq_factor", llama3.LowFreqFactor);
                w.WriteNumber("original_max_position_embeddings", llama3.OriginalContextLength);
                w.WriteString("rope_type", "llama3");
                w.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"RoPE scaling {scaling} has no config.json form");
        }
    }

    public static byte[] GenerationConfig(Vocabulary v)
    {
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Json))
        {
            w.WriteStartObject();
            WriteTokenId(w, "bos_token_id", v.BosId);
            var ends = (v.EosId >= 0 ? [v.EosId] : Array.Empty<int>()).Concat(v.ExtraEosIds ?? []).ToList();
            if (ends.Count == 1)
                w.WriteNumber("eos_token_id", ends[0]);
            else if (ends.Count > 1)
            {
                w.WriteStartArray("eos_token_id");
                foreach (int id in ends)
                    w.WriteNumberValue(id);
                w.WriteEndArray();
            }
            if (v.PaddingId is int pad)
                w.WriteNumber("pad_token_id", pad);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    static void WriteTokenId(Utf8JsonWriter w, string key, int id)
    {
        if (id >= 0)
            w.WriteNumber(key, id);
        else
            w.WriteNull(key);
    }

    static string DTypeName(GgmlType dtype) => dtype switch
    {
        GgmlType.F32 => "float32",
        GgmlType.F16 => "float16",
        GgmlType.BF16 => "bfloat16",
        _ => throw new ArgumentException($"no torch dtype for {dtype}"),
    };
}
