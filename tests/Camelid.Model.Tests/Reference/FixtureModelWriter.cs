using System.Text.Json;
using System.Text.Json.Nodes;
using Camelid.Formats.Gguf;
using Camelid.Formats.Safetensors;

namespace Camelid.Model.Tests.Reference;

/// <summary>
/// Writes a fixture's synthetic model in its file format, the way real files of that format are laid out:
/// a GGUF file (Meta/interleaved Q/K rows, llama.* metadata, no tokenizer), a Hugging Face folder
/// (config.json + safetensors, optionally sharded with model.safetensors.index.json; q/k rows as stored,
/// i.e. in HF's rotate_half order) or a llama2.c checkpoint (run.c layout). Returns the path to load.
/// </summary>
public static class FixtureModelWriter
{
    public static string Write(LogitsFixture fixture, string directory) => fixture.Format switch
    {
        "gguf" => WriteGguf(fixture, directory),
        "safetensors" => WriteHfFolder(fixture, directory),
        "llama2c" => WriteLlama2c(fixture, directory),
        _ => throw new InvalidDataException($"fixture {fixture.Name}: unknown format {fixture.Format}"),
    };

    static string WriteGguf(LogitsFixture f, string directory)
    {
        var c = f.Config;
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("general.name", f.Name);
        w.Add("llama.context_length", (uint)c.ContextLength);
        w.Add("llama.embedding_length", (uint)c.Dim);
        w.Add("llama.block_count", (uint)c.Layers);
        w.Add("llama.feed_forward_length", (uint)c.HiddenDim);
        w.Add("llama.attention.head_count", (uint)c.Heads);
        w.Add("llama.attention.head_count_kv", (uint)c.KvHeads);
        w.Add("llama.attention.layer_norm_rms_epsilon", (float)c.RmsEps);
        w.Add("llama.rope.freq_base", (float)c.RopeTheta);
        w.Add("llama.rope.dimension_count", (uint)c.HeadSize);
        // Llama 3 scaling travels as the rope_freqs.weight tensor (a fixture tensor), not as keys,
        // exactly as llama.cpp's convert_hf_to_gguf.py writes it.
        if (c.RopeScaling is { Type: "linear" } linear)
        {
            w.Add("llama.rope.scaling.type", "linear");
            w.Add("llama.rope.scaling.factor", (float)linear.Factor);
        }
        foreach (var t in f.Tensors)
            w.AddTensor(t.Name, t.GgmlType, t.Shape, SyntheticTensors.Bytes(t));
        string path = Path.Combine(directory, f.Name + ".gguf");
        w.Write(path);
        return path;
    }

    static string WriteHfFolder(LogitsFixture f, string directory)
    {
        var c = f.Config;
        var dtypes = f.Tensors.Select(t => t.Type).Distinct().ToList();
        string torchDtype = dtypes.Count == 1 ? dtypes[0] switch { "F32" => "float32", "F16" => "float16", "BF16" => "bfloat16", var d => d } : "float32";
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_act"] = "silu",
            ["hidden_size"] = c.Dim,
            ["intermediate_size"] = c.HiddenDim,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads,
            ["vocab_size"] = c.VocabSize,
            ["max_position_embeddings"] = c.ContextLength,
            ["rms_norm_eps"] = c.RmsEps,
            ["rope_theta"] = c.RopeTheta,
            ["tie_word_embeddings"] = f.Tensors.All(t => t.Name != "lm_head.weight"),
            ["torch_dtype"] = torchDtype,
            ["rope_scaling"] = c.RopeScaling switch
            {
                null => null,
                { Type: "linear" } s => new JsonObject { ["type"] = "linear", ["factor"] = s.Factor },
                var s => new JsonObject
                {
                    ["rope_type"] = s.Type,
                    ["factor"] = s.Factor,
                    ["low_freq_factor"] = s.LowFreqFactor,
                    ["high_freq_factor"] = s.HighFreqFactor,
                    ["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings,
                },
            },
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var shards = f.Tensors.GroupBy(t => t.Shard).OrderBy(g => g.Key).ToList();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), Entries(shards[0]), metadata);
            return directory;
        }
        var weightMap = new JsonObject();
        long totalSize = 0;
        foreach (var shard in shards)
        {
            string file = $"model-{shard.Key + 1:D5}-of-{shards.Count:D5}.safetensors";
            var entries = Entries(shard).ToList();
            SafetensorsWriter.Write(Path.Combine(directory, file), entries, metadata);
            totalSize += entries.Sum(e => (long)e.Data.Length);
            foreach (var e in entries)
                weightMap[e.Name] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = totalSize }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), index.ToJsonString());
        return directory;
    }

    static IEnumerable<(string Name, Camelid.Tensors.Quant.GgmlType Type, long[] Shape, byte[] Data)> Entries(IEnumerable<TensorSpec> specs) =>
        specs.Select(t => (t.Name, t.GgmlType, t.Shape, SyntheticTensors.Bytes(t)));

    /// <summary>
    /// llama2.c run.c checkpoint: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
    /// seq_len), then f32 token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, the legacy
    /// freq_cis_real/imag (seq_len * head_size / 2 floats each, skipped by run.c: zeros here), then wcls
    /// when vocab_size is stored negative (unshared classifier).
    /// </summary>
    static string WriteLlama2c(LogitsFixture f, string directory)
    {
        var c = f.Config;
        bool sharedClassifier = f.Tensors.All(t => t.Name != "wcls");
        string path = Path.Combine(directory, f.Name + ".bin");
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream);
        foreach (int v in new[] { c.Dim, c.HiddenDim, c.Layers, c.Heads, c.KvHeads, sharedClassifier ? c.VocabSize : -c.VocabSize, c.ContextLength })
            w.Write(v);
        foreach (var name in new[] { "token_embedding", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3", "rms_final" })
            w.Write(SyntheticTensors.Bytes(f.Tensor(name)));
        w.Write(new byte[2L * c.ContextLength * (c.HeadSize / 2) * sizeof(float)]);
        if (!sharedClassifier)
            w.Write(SyntheticTensors.Bytes(f.Tensor("wcls")));
        return path;
    }
}
