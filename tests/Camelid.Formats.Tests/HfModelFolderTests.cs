using System.Runtime.InteropServices;
using System.Text.Json;
using Camelid.Formats.HuggingFace;
using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Tests;

public class HfModelFolderTests
{
    const string Config = """{"architectures":["LlamaForCausalLM"],"hidden_size":8,"num_hidden_layers":2,"vocab_size":16}""";

    static byte[] Floats(int n, float start) => MemoryMarshal.AsBytes(Enumerable.Range(0, n).Select(i => start + i).ToArray().AsSpan()).ToArray();

    static (string, GgmlType, long[], byte[]) T(string name, long rows, long cols, float start) =>
        (name, GgmlType.F32, [rows, cols], Floats((int)(rows * cols), start));

    /// <summary>A two-shard folder as save_pretrained writes it: shards, index, config and tokenizer files.</summary>
    static void WriteShardedModel(TempDir dir, bool tokenizerFiles = true)
    {
        dir.File("config.json", Config);
        SafetensorsWriter.Write(dir.Combine("model-00001-of-00002.safetensors"), [
            T("model.embed_tokens.weight", 16, 8, 0),
            T("model.layers.0.self_attn.q_proj.weight", 8, 8, 1000),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        SafetensorsWriter.Write(dir.Combine("model-00002-of-00002.safetensors"), [
            T("model.layers.1.self_attn.q_proj.weight", 8, 8, 2000),
            ("model.norm.weight", GgmlType.BF16, [8], new byte[16]),
        ]);
        dir.File("model.safetensors.index.json", """
            {
              "metadata": {"total_size": 1296},
              "weight_map": {
                "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                "model.layers.0.self_attn.q_proj.weight": "model-00001-of-00002.safetensors",
                "model.layers.1.self_attn.q_proj.weight": "model-00002-of-00002.safetensors",
                "model.norm.weight": "model-00002-of-00002.safetensors"
              }
            }
            """);
        if (tokenizerFiles)
        {
            dir.File("tokenizer.json", """{"model":{"type":"BPE"}}""");
            dir.File("tokenizer_config.json", """{"bos_token":"<s>","chat_template":"{{ messages }}",}"""); // trailing comma, as some repos have
            dir.File("generation_config.json", """{"temperature":0.6,"top_p":0.9}""");
        }
    }

    [Fact]
    public void A_sharded_folder_exposes_every_tensor_and_the_side_files()
    {
        using var dir = new TempDir(nameof(A_sharded_folder_exposes_every_tensor_and_the_side_files));
        WriteShardedModel(dir);
        using var folder = HfModelFolder.Open(dir.Path);
        Assert.Equal(dir.Path, folder.Directory);
        Assert.Equal(8, folder.Config.GetProperty("hidden_size").GetInt32());
        Assert.Equal(4, folder.Tensors.Count);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], folder.WeightFiles.Select(Path.GetFileName));
        var q1 = folder.Find("model.layers.1.self_attn.q_proj.weight")!;
        Assert.Equal([8L, 8], q1.Shape);
        Assert.Equal(2000f, q1.ToFloats()[0]);
        Assert.Equal(2063f, q1.ToFloats()[63]);
        Assert.Equal(1000f, folder.Find("model.layers.0.self_attn.q_proj.weight")!.ToFloats()[0]);
        Assert.Equal(GgmlType.BF16, folder.Find("model.norm.weight")!.Type);
        Assert.Null(folder.Find("lm_head.weight"));
        Assert.Equal(dir.Combine("tokenizer.json"), folder.TokenizerJsonPath);
        Assert.Equal(dir.Combine("tokenizer_config.json"), folder.TokenizerConfigPath);
        Assert.Equal(dir.Combine("generation_config.json"), folder.GenerationConfigPath);
        Assert.Null(folder.TokenizerModelPath);
        Assert.Equal("{{ messages }}", folder.TokenizerConfig!.Value.GetProperty("chat_template").GetString());
        Assert.Equal(0.6, folder.GenerationConfig!.Value.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public void A_single_file_folder_needs_no_index_and_no_tokenizer()
    {
        using var dir = new TempDir(nameof(A_single_file_folder_needs_no_index_and_no_tokenizer));
        dir.File("config.json", Config);
        SafetensorsWriter.Write(dir.Combine("model.safetensors"), [T("lm_head.weight", 16, 8, 5)]);
        dir.File("tokenizer.model", [0x0A, 0x00]);
        using var folder = HfModelFolder.Open(dir.Path);
        Assert.Single(folder.Tensors);
        Assert.Equal(5f, folder.Find("lm_head.weight")!.ToFloats()[0]);
        Assert.Equal(dir.Combine("tokenizer.model"), folder.TokenizerModelPath);
        Assert.Null(folder.TokenizerJsonPath);
        Assert.Null(folder.TokenizerConfig);
        Assert.Null(folder.GenerationConfig);
    }

    static ModelFormatException Rejects(string directory, string what) =>
        Hostile.Rejects(() => { using var f = HfModelFolder.Open(directory); Hostile.Touch(f.Tensors); }, what);

    [Fact]
    public void Missing_config_missing_weights_and_pickles_are_explained()
    {
        using var dir = new TempDir(nameof(Missing_config_missing_weights_and_pickles_are_explained));
        Assert.Contains("folder not found", Rejects(dir.Combine("nope"), "no folder").Message);
        Assert.Contains("no config.json", Rejects(dir.Path, "no config").Message);
        dir.File("config.json", Config);
        Assert.Contains("no weight files", Rejects(dir.Path, "no weights").Message);
        dir.File("pytorch_model.bin", [0x80, 0x02]);
        var e = Rejects(dir.Path, "pickle only");
        Assert.Contains("pickle", e.Message);
        Assert.Contains("safetensors", e.Message);
        File.Delete(dir.Combine("pytorch_model.bin"));
        SafetensorsWriter.Write(dir.Combine("weights.safetensors"), [T("x", 1, 1, 0)]);
        Assert.Contains("weights.safetensors", Rejects(dir.Path, "oddly named").Message);
        dir.File("config.json", "[1, 2]");
        Assert.Contains("expected a JSON object", Rejects(dir.Path, "config array").Message);
        dir.File("config.json", "{\"hidden_size\": ");
        Assert.Contains("not valid JSON", Rejects(dir.Path, "config cut").Message);
        dir.File("config.json", [(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        Assert.Contains("not valid UTF-8", Rejects(dir.Path, "config bytes").Message);
        dir.File("config.json", "{\"\\udc00\": 1}");
        Assert.Contains("not valid Unicode", Rejects(dir.Path, "config surrogate").Message);
    }

    [Fact]
    public void Index_problems_name_the_shard_or_tensor()
    {
        using var dir = new TempDir(nameof(Index_problems_name_the_shard_or_tensor));
        WriteShardedModel(dir, tokenizerFiles: false);
        string index = dir.Combine("model.safetensors.index.json");
        string good = File.ReadAllText(index);

        File.Move(dir.Combine("model-00002-of-00002.safetensors"), dir.Combine("elsewhere.safetensors"));
        var e = Rejects(dir.Path, "missing shard");
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("missing", e.Message);
        File.Move(dir.Combine("elsewhere.safetensors"), dir.Combine("model-00002-of-00002.safetensors"));

        File.WriteAllText(index, good.Replace("\"model.norm.weight\"", "\"model.norm.weight\": \"model-00002-of-00002.safetensors\", \"lm_head.weight\""));
        e = Rejects(dir.Path, "tensor missing in shard");
        Assert.Contains("'lm_head.weight'", e.Message);
        Assert.Contains("does not contain it", e.Message);

        File.WriteAllText(index, good.Replace("\"model.norm.weight\": \"model-00002-of-00002.safetensors\"", "\"model.norm.weight\": \"model-00001-of-00002.safetensors\""));
        Assert.Contains("is stored in model-00002-of-00002.safetensors", Rejects(dir.Path, "wrong shard").Message);

        File.WriteAllText(index, good.Replace("model-00002-of-00002.safetensors", "../model-00002-of-00002.safetensors"));
        Assert.Contains("not a plain file name", Rejects(dir.Path, "path traversal").Message);

        File.WriteAllText(index, """{"weight_map": {}}""");
        Assert.Contains("weight_map is empty", Rejects(dir.Path, "empty map").Message);
        File.WriteAllText(index, """{"weight_map": {"a": 3}}""");
        Assert.Contains("must be a file name", Rejects(dir.Path, "number").Message);
        File.WriteAllText(index, """{"metadata": {}}""");
        Assert.Contains("weight_map", Rejects(dir.Path, "no map").Message);

        File.WriteAllText(index, good);
        var shard = File.ReadAllBytes(dir.Combine("model-00001-of-00002.safetensors"));
        File.WriteAllBytes(dir.Combine("model-00001-of-00002.safetensors"), shard[..^1]);
        e = Rejects(dir.Path, "truncated shard");
        Assert.Contains("model-00001-of-00002.safetensors", e.Message);
        File.WriteAllBytes(dir.Combine("model-00001-of-00002.safetensors"), shard);

        using var ok = HfModelFolder.Open(dir.Path); // restored: opens again
        Assert.Equal(4, ok.Tensors.Count);
    }

    [Fact]
    public void Every_truncation_of_the_json_files_is_rejected()
    {
        using var dir = new TempDir(nameof(Every_truncation_of_the_json_files_is_rejected));
        WriteShardedModel(dir);
        foreach (var name in new[] { "config.json", "model.safetensors.index.json", "tokenizer_config.json", "generation_config.json" })
        {
            string path = dir.Combine(name);
            var good = File.ReadAllBytes(path);
            for (int cut = 0; cut < good.Length; cut++)
            {
                File.WriteAllBytes(path, good[..cut]);
                var e = Rejects(dir.Path, $"{name} cut at {cut}");
                Assert.Contains(name, e.Message);
            }
            File.WriteAllBytes(path, good);
        }
        using var folder = HfModelFolder.Open(dir.Path);
        Assert.Equal(4, folder.Tensors.Count);
    }

    [Fact]
    public void A_tensor_in_two_shards_is_rejected()
    {
        using var dir = new TempDir(nameof(A_tensor_in_two_shards_is_rejected));
        WriteShardedModel(dir, tokenizerFiles: false);
        SafetensorsWriter.Write(dir.Combine("model-00002-of-00002.safetensors"), [
            T("model.layers.1.self_attn.q_proj.weight", 8, 8, 2000),
            ("model.norm.weight", GgmlType.BF16, [8], new byte[16]),
            T("model.embed_tokens.weight", 16, 8, 0),
        ]);
        Assert.Contains("stored in both", Rejects(dir.Path, "duplicate").Message);
    }

    [Fact]
    public void Config_stays_readable_after_the_folder_is_disposed()
    {
        using var dir = new TempDir(nameof(Config_stays_readable_after_the_folder_is_disposed));
        WriteShardedModel(dir);
        JsonElement config;
        using (var folder = HfModelFolder.Open(dir.Path))
            config = folder.Config;
        Assert.Equal(16, config.GetProperty("vocab_size").GetInt32());
    }
}
