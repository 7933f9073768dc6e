using Camelid.Formats.Gguf;
using Camelid.Tensors.Quant;
using Camelid.Tests;

namespace Camelid.Formats.Tests;

/// <summary>The GGUF files in ../shared/data, checked against the facts listed in its README.md.</summary>
public class GgufRealFilesTests
{
    const string Stories = "models/stories260K.gguf";
    const string TinyRandom = "models/llama-2-tiny-random.gguf";
    const string VocabSpm = "tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf";
    const string VocabGpt2 = "tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf";

    [SharedDataFact(Stories)]
    public void Stories260K_header_metadata_and_tensors_match_the_readme()
    {
        using var f = GgufFile.Open(TestPaths.Shared(Stories));
        Assert.Equal(3u, f.Version);
        Assert.Equal(19, f.Metadata.Entries.Count);
        Assert.Equal(19, f.MetadataKeys.Count);
        Assert.Equal(48, f.Tensors.Count);
        Assert.Equal(32, f.Alignment);
        Assert.All(f.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
        Assert.Equal(0, f.DataOffset % 32);

        var m = f.Metadata;
        Assert.Equal("llama", m.GetString("general.architecture"));
        Assert.Equal("llama", m.GetString("general.name"));
        Assert.Equal(2048, m.GetInt64("llama.context_length"));
        Assert.Equal(64, m.GetInt64("llama.embedding_length"));
        Assert.Equal(172, m.GetInt64("llama.feed_forward_length"));
        Assert.Equal(8, m.GetInt64("llama.attention.head_count"));
        Assert.Equal(4, m.GetInt64("llama.attention.head_count_kv"));
        Assert.Equal(5, m.GetInt64("llama.block_count"));
        Assert.Equal(8, m.GetInt64("llama.rope.dimension_count"));
        Assert.Equal(1e-5f, (float)m.Get("llama.attention.layer_norm_rms_epsilon")!);
        Assert.Equal("llama", m.GetString("tokenizer.ggml.model"));
        Assert.Equal(512, m.TryGetStringArray("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(512, m.TryGetFloatArray("tokenizer.ggml.scores")!.Length);
        Assert.Equal(0u, m.Get("tokenizer.ggml.unknown_token_id"));
        Assert.Equal(1u, m.Get("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2u, m.Get("tokenizer.ggml.eos_token_id"));
        Assert.Equal(4294967295u, m.Get("tokenizer.ggml.seperator_token_id"));
        Assert.Equal(4294967295u, m.Get("tokenizer.ggml.padding_token_id"));
        Assert.False(m.Contains("general.alignment"));

        var types = ((int[])m.Get("tokenizer.ggml.token_type")!).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<int, int> { [1] = 253, [2] = 1, [3] = 2, [6] = 256 }, types);

        // README lists GGUF dims fastest-first; TensorEntry keeps them outermost-first.
        Assert.Equal([512L, 64], f.Find("token_embd.weight")!.Shape);
        Assert.Equal([512L, 64], f.Find("output.weight")!.Shape);
        Assert.Equal([64L], f.Find("output_norm.weight")!.Shape);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal([64L, 64], f.Find($"blk.{i}.attn_q.weight")!.Shape);
            Assert.Equal([32L, 64], f.Find($"blk.{i}.attn_k.weight")!.Shape);
            Assert.Equal([32L, 64], f.Find($"blk.{i}.attn_v.weight")!.Shape);
            Assert.Equal([64L, 64], f.Find($"blk.{i}.attn_output.weight")!.Shape);
            Assert.Equal([64L], f.Find($"blk.{i}.attn_norm.weight")!.Shape);
            Assert.Equal([172L, 64], f.Find($"blk.{i}.ffn_gate.weight")!.Shape);
            Assert.Equal([64L, 172], f.Find($"blk.{i}.ffn_down.weight")!.Shape);
            Assert.Equal([172L, 64], f.Find($"blk.{i}.ffn_up.weight")!.Shape);
            Assert.Equal([64L], f.Find($"blk.{i}.ffn_norm.weight")!.Shape);
        }
        // output.weight is a stored copy of the embedding: same bytes at a different place.
        Assert.True(f.Find("output.weight")!.Bytes.SequenceEqual(f.Find("token_embd.weight")!.Bytes));
        Assert.Equal(1_185_376, new FileInfo(TestPaths.Shared(Stories)).Length);
    }

    [SharedDataFact(TinyRandom)]
    public void Tiny_random_has_F16_matrices_F32_norms_and_the_full_llama_vocabulary()
    {
        using var f = GgufFile.Open(TestPaths.Shared(TinyRandom));
        Assert.Equal(3u, f.Version);
        Assert.Equal(18, f.Metadata.Entries.Count);
        Assert.Equal(12, f.Tensors.Count);
        Assert.Equal(1, f.Metadata.GetInt64("general.file_type"));
        Assert.Equal(1, f.Metadata.GetInt64("llama.block_count"));
        Assert.Equal(8, f.Metadata.GetInt64("llama.embedding_length"));
        Assert.Equal(32, f.Metadata.GetInt64("llama.feed_forward_length"));
        Assert.Equal(4096, f.Metadata.GetInt64("llama.context_length"));
        Assert.Equal(32000, f.Metadata.TryGetStringArray("tokenizer.ggml.tokens")!.Length);
        Assert.False(f.Metadata.Contains("tokenizer.ggml.pre"));
        foreach (var t in f.Tensors)
            Assert.Equal(t.Shape.Length == 1 ? GgmlType.F32 : GgmlType.F16, t.Type);
        Assert.Equal([32000L, 8], f.Find("token_embd.weight")!.Shape);
        Assert.Equal([32L, 8], f.Find("blk.0.ffn_up.weight")!.Shape);
        Assert.True(Hostile.Touch(f.Tensors) > 0);
    }

    [SharedDataFact(VocabSpm)]
    public void Llama_spm_vocab_file_has_metadata_only()
    {
        using var f = GgufFile.Open(TestPaths.Shared(VocabSpm));
        Assert.Equal(3u, f.Version);
        Assert.Empty(f.Tensors);
        Assert.Equal(22, f.Metadata.Entries.Count);
        var m = f.Metadata;
        Assert.Equal("llama", m.GetString("tokenizer.ggml.model"));
        Assert.Equal("default", m.GetString("tokenizer.ggml.pre"));
        Assert.Equal(32000, m.TryGetStringArray("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(32000, m.TryGetFloatArray("tokenizer.ggml.scores")!.Length);
        Assert.Equal(32000, m.TryGetInt32Array("tokenizer.ggml.token_type")!.Length);
        Assert.Equal(1, m.GetInt64("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2, m.GetInt64("tokenizer.ggml.eos_token_id"));
        Assert.Equal(0, m.GetInt64("tokenizer.ggml.unknown_token_id"));
        Assert.True(m.TryGetBool("tokenizer.ggml.add_bos_token"));
        Assert.False(m.TryGetBool("tokenizer.ggml.add_eos_token"));
        Assert.Equal("▁Hello", m.TryGetStringArray("tokenizer.ggml.tokens")![15043]); // " Hello" -> 15043 in the .out vectors
    }

    [SharedDataFact(VocabGpt2)]
    public void Gpt2_vocab_file_has_tokens_merges_and_no_scores()
    {
        using var f = GgufFile.Open(TestPaths.Shared(VocabGpt2));
        Assert.Empty(f.Tensors);
        Assert.Equal(16, f.Metadata.Entries.Count);
        var m = f.Metadata;
        Assert.Equal("gpt2", m.GetString("tokenizer.ggml.model"));
        Assert.Equal("gpt-2", m.GetString("tokenizer.ggml.pre"));
        Assert.Equal(50257, m.TryGetStringArray("tokenizer.ggml.tokens")!.Length);
        var merges = m.TryGetStringArray("tokenizer.ggml.merges")!;
        Assert.Equal(50000, merges.Length);
        Assert.All(merges, merge => Assert.Equal(2, merge.Split(' ').Length));
        Assert.Equal(50256, m.GetInt64("tokenizer.ggml.bos_token_id"));
        Assert.Equal(50256, m.GetInt64("tokenizer.ggml.eos_token_id"));
        Assert.False(m.Contains("tokenizer.ggml.scores"));
    }

    public static TheoryData<string> AllGgufFiles => new() { Stories, TinyRandom, VocabSpm, VocabGpt2 };

    /// <summary>Reading a llama.cpp-written file and writing it again must give the same bytes: the writer lays out,
    /// aligns and pads exactly as gguf-py does.</summary>
    [SharedDataTheory(Stories, TinyRandom, VocabSpm, VocabGpt2)]
    [MemberData(nameof(AllGgufFiles))]
    public void Rewriting_a_real_file_reproduces_it_byte_for_byte(string relative)
    {
        string path = TestPaths.Shared(relative);
        using var f = GgufFile.Open(path);
        var writer = new GgufWriter { Version = f.Version };
        foreach (var key in f.MetadataKeys)
            writer.Add(key, f.Metadata.Get(key)!);
        foreach (var t in f.Tensors)
            writer.AddTensor(t);
        var rewritten = new MemoryStream();
        writer.Write(rewritten);
        var original = File.ReadAllBytes(path);
        Assert.Equal(original.Length, rewritten.Length);
        int firstDifference = original.AsSpan().CommonPrefixLength(rewritten.ToArray());
        Assert.True(firstDifference == original.Length, $"first differing byte at {firstDifference}");
    }
}
