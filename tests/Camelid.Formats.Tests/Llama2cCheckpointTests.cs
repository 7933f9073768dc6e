using System.Runtime.InteropServices;
using Camelid.Formats.Gguf;
using Camelid.Formats.Llama2c;
using Camelid.Tensors.Quant;
using Camelid.Tests;

namespace Camelid.Formats.Tests;

public class Llama2cCheckpointTests
{
    const string StoriesBin = "models/stories260K.bin";
    const string StoriesGguf = "models/stories260K.gguf";

    [SharedDataFact(StoriesBin)]
    public void Stories260K_header_and_tensor_shapes_match_the_readme()
    {
        using var c = Llama2cCheckpoint.Open(TestPaths.Shared(StoriesBin));
        Assert.Equal(0, c.Version);
        Assert.Equal(new Llama2cHeader(64, 172, 5, 8, 4, 512, 512, SharedClassifier: true), c.Header);
        Assert.Equal(8, c.Header.HeadSize);
        Assert.Equal(32, c.Header.KvDim);
        Assert.Equal(1_056_540, Llama2cCheckpoint.ExpectedFileSize(c.Header, 0));
        Assert.Equal(2 + 5 * 9 + 1, c.Tensors.Count);
        Assert.Equal([512L, 64], c.Find("tok_embeddings.weight")!.Shape);
        Assert.Equal([64L, 64], c.Find("layers.4.attention.wq.weight")!.Shape);
        Assert.Equal([32L, 64], c.Find("layers.4.attention.wk.weight")!.Shape);
        Assert.Equal([172L, 64], c.Find("layers.0.feed_forward.w1.weight")!.Shape);
        Assert.Equal([64L, 172], c.Find("layers.0.feed_forward.w2.weight")!.Shape);
        Assert.Equal([64L], c.Find("norm.weight")!.Shape);
        unsafe { Assert.True(c.Find("output.weight")!.Pointer == c.Find("tok_embeddings.weight")!.Pointer); }
    }

    /// <summary>README: every tensor of the .bin is bit-identical to its GGUF counterpart (no Q/K permutation).</summary>
    [SharedDataFact(StoriesBin, StoriesGguf)]
    public void Stories260K_bin_and_gguf_hold_bit_identical_tensors()
    {
        using var bin = Llama2cCheckpoint.Open(TestPaths.Shared(StoriesBin));
        using var gguf = GgufFile.Open(TestPaths.Shared(StoriesGguf));
        var pairs = new List<(string Meta, string Gguf)>
        {
            ("tok_embeddings.weight", "token_embd.weight"), ("norm.weight", "output_norm.weight"), ("output.weight", "output.weight"),
        };
        for (int i = 0; i < 5; i++)
            pairs.AddRange([
                ($"layers.{i}.attention_norm.weight", $"blk.{i}.attn_norm.weight"),
                ($"layers.{i}.attention.wq.weight", $"blk.{i}.attn_q.weight"),
                ($"layers.{i}.attention.wk.weight", $"blk.{i}.attn_k.weight"),
                ($"layers.{i}.attention.wv.weight", $"blk.{i}.attn_v.weight"),
                ($"layers.{i}.attention.wo.weight", $"blk.{i}.attn_output.weight"),
                ($"layers.{i}.ffn_norm.weight", $"blk.{i}.ffn_norm.weight"),
                ($"layers.{i}.feed_forward.w1.weight", $"blk.{i}.ffn_gate.weight"),
                ($"layers.{i}.feed_forward.w2.weight", $"blk.{i}.ffn_down.weight"),
                ($"layers.{i}.feed_forward.w3.weight", $"blk.{i}.ffn_up.weight"),
            ]);
        Assert.Equal(bin.Tensors.Count, pairs.Count);
        Assert.Equal(gguf.Tensors.Count, pairs.Count);
        foreach (var (meta, ggufName) in pairs)
        {
            var a = bin.Find(meta)!;
            var b = gguf.Find(ggufName)!;
            Assert.Equal(GgmlType.F32, a.Type);
            Assert.Equal(b.Shape, a.Shape);
            Assert.True(a.Bytes.SequenceEqual(b.Bytes), $"{meta} differs from {ggufName}");
        }
    }

    [SharedDataFact(StoriesBin)]
    public void Truncations_of_the_real_checkpoint_are_rejected_with_the_expected_size()
    {
        using var dir = new TempDir(nameof(Truncations_of_the_real_checkpoint_are_rejected_with_the_expected_size));
        var bytes = File.ReadAllBytes(TestPaths.Shared(StoriesBin));
        string path = dir.Combine("cut.bin");
        foreach (int cut in Hostile.CutPoints(bytes.Length, dense: 40, sparse: 60))
        {
            File.WriteAllBytes(path, bytes[..cut]);
            var e = Hostile.Rejects(() => Llama2cCheckpoint.Open(path).Dispose(), $"cut at {cut}");
            if (cut >= 28)
                Assert.Contains($"expected 1056540 bytes for dim=64, hidden_dim=172, n_layers=5, n_heads=8, n_kv_heads=4, vocab_size=512, seq_len=512, shared_classifier=True, got {cut}: truncated", e.Message);
        }
    }

    // A tiny GQA model: dim 8, hidden 12, 2 layers, 4 heads (head size 2), 2 KV heads (kv_dim 4), vocab 10, seq_len 6.
    static readonly Llama2cHeader Tiny = new(8, 12, 2, 4, 2, 10, 6, SharedClassifier: true);

    /// <summary>Distinct random values for every tensor of the tiny model, by Meta name.</summary>
    static Dictionary<string, float[]> TinyWeights(Llama2cHeader h, int seed)
    {
        var random = new Random(seed);
        float[] R(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        long dim = h.Dim, kv = h.KvDim, hid = h.HiddenDim;
        var w = new Dictionary<string, float[]> { ["tok_embeddings.weight"] = R(h.VocabSize * dim), ["norm.weight"] = R(dim) };
        for (int i = 0; i < h.Layers; i++)
        {
            w[$"layers.{i}.attention_norm.weight"] = R(dim);
            w[$"layers.{i}.attention.wq.weight"] = R(dim * dim);
            w[$"layers.{i}.attention.wk.weight"] = R(kv * dim);
            w[$"layers.{i}.attention.wv.weight"] = R(kv * dim);
            w[$"layers.{i}.attention.wo.weight"] = R(dim * dim);
            w[$"layers.{i}.ffn_norm.weight"] = R(dim);
            w[$"layers.{i}.feed_forward.w1.weight"] = R(hid * dim);
            w[$"layers.{i}.feed_forward.w2.weight"] = R(dim * hid);
            w[$"layers.{i}.feed_forward.w3.weight"] = R(hid * dim);
        }
        w["output.weight"] = h.SharedClassifier ? w["tok_embeddings.weight"] : R(h.VocabSize * dim);
        return w;
    }

    static byte[] F(float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    /// <summary>The layout of export.py's legacy_export, written out here independently of the reader.</summary>
    static byte[] LegacyFile(Llama2cHeader h, Dictionary<string, float[]> w)
    {
        var b = new Bytes().I32(h.Dim).I32(h.HiddenDim).I32(h.Layers).I32(h.Heads).I32(h.KvHeads)
            .I32(h.SharedClassifier ? h.VocabSize : -h.VocabSize).I32(h.SeqLen);
        b.Raw(F(w["tok_embeddings.weight"]));
        foreach (var kind in new[] { "attention_norm", "attention.wq", "attention.wk", "attention.wv", "attention.wo", "ffn_norm", "feed_forward.w1", "feed_forward.w2", "feed_forward.w3" })
            for (int i = 0; i < h.Layers; i++)
                b.Raw(F(w[$"layers.{i}.{kind}.weight"]));
        b.Raw(F(w["norm.weight"]));
        b.Raw(F(Enumerable.Repeat(9f, 2 * h.SeqLen * (h.HeadSize / 2)).ToArray())); // freq_cis, skipped
        if (!h.SharedClassifier)
            b.Raw(F(w["output.weight"]));
        return b.ToArray();
    }

    /// <summary>The layout of export.py's version1_export.</summary>
    static byte[] Version1File(Llama2cHeader h, Dictionary<string, float[]> w)
    {
        var b = new Bytes().U32(0x616b3432).I32(1).I32(h.Dim).I32(h.HiddenDim).I32(h.Layers).I32(h.Heads).I32(h.KvHeads)
            .I32(h.VocabSize).I32(h.SeqLen).U8(h.SharedClassifier ? (byte)1 : (byte)0).PadTo(256);
        void Layers(string kind) { for (int i = 0; i < h.Layers; i++) b.Raw(F(w[$"layers.{i}.{kind}.weight"])); }
        Layers("attention_norm");
        Layers("ffn_norm");
        b.Raw(F(w["norm.weight"])).Raw(F(w["tok_embeddings.weight"]));
        foreach (var kind in new[] { "attention.wq", "attention.wk", "attention.wv", "attention.wo", "feed_forward.w1", "feed_forward.w2", "feed_forward.w3" })
            Layers(kind);
        if (!h.SharedClassifier)
            b.Raw(F(w["output.weight"]));
        return b.ToArray();
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(1, false)]
    public void Every_tensor_of_a_tiny_model_is_found_where_export_py_put_it(int version, bool shared)
    {
        using var dir = new TempDir(nameof(Every_tensor_of_a_tiny_model_is_found_where_export_py_put_it));
        var h = Tiny with { SharedClassifier = shared };
        var weights = TinyWeights(h, seed: version * 2 + (shared ? 1 : 0));
        var bytes = version == 0 ? LegacyFile(h, weights) : Version1File(h, weights);
        Assert.Equal(Llama2cCheckpoint.ExpectedFileSize(h, version), bytes.Length);
        using var c = Llama2cCheckpoint.Open(dir.File("tiny.bin", bytes));
        Assert.Equal(version, c.Version);
        Assert.Equal(h, c.Header);
        Assert.Equal(weights.Count, c.Tensors.Count);
        foreach (var (name, values) in weights)
        {
            var t = c.Find(name)!;
            Assert.Equal(GgmlType.F32, t.Type);
            Assert.Equal(values.Length, t.ElementCount);
            Assert.Equal(values, t.ToFloats());
        }
        Assert.Equal([4L, 8], c.Find("layers.1.attention.wk.weight")!.Shape);
        Assert.Equal([8L, 12], c.Find("layers.1.feed_forward.w2.weight")!.Shape);
        Assert.Equal([10L, 8], c.Find("output.weight")!.Shape);
    }

    static ModelFormatException Rejects(TempDir dir, byte[] bytes, string what)
    {
        string path = dir.File("bad.bin", bytes);
        return Hostile.Rejects(() => { using var c = Llama2cCheckpoint.Open(path); Hostile.Touch(c.Tensors); }, what);
    }

    [Fact]
    public void Every_truncation_of_a_tiny_model_is_rejected()
    {
        using var dir = new TempDir(nameof(Every_truncation_of_a_tiny_model_is_rejected));
        foreach (var (version, bytes) in new[] { (0, LegacyFile(Tiny, TinyWeights(Tiny, 1))), (1, Version1File(Tiny, TinyWeights(Tiny, 1))) })
        {
            string path = dir.Combine($"cut{version}.bin");
            for (int cut = 0; cut < bytes.Length; cut++)
            {
                File.WriteAllBytes(path, bytes[..cut]);
                Hostile.Rejects(() => Llama2cCheckpoint.Open(path).Dispose(), $"version {version}, cut at {cut} of {bytes.Length}");
            }
            File.WriteAllBytes(path, [.. bytes, 0]);
            Assert.Contains("trailing data", Hostile.Rejects(() => Llama2cCheckpoint.Open(path).Dispose(), "one byte too many").Message);
        }
    }

    static byte[] Header(params int[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Implausible_headers_are_rejected_before_anything_is_allocated()
    {
        using var dir = new TempDir(nameof(Implausible_headers_are_rejected_before_anything_is_allocated));
        var body = new byte[4096];
        (int[] Header, string Expected)[] cases =
        [
            ([0, 12, 2, 4, 2, 10, 6], "dim=0"),
            ([-8, 12, 2, 4, 2, 10, 6], "dim=-8"),
            ([8, 0, 2, 4, 2, 10, 6], "hidden_dim=0"),
            ([8, 12, -1, 4, 2, 10, 6], "n_layers=-1"),
            ([8, 12, 2, 0, 2, 10, 6], "n_heads=0"),
            ([8, 12, 2, 3, 1, 10, 6], "not a multiple of n_heads"),
            ([8, 12, 2, 4, 3, 10, 6], "not a multiple of n_kv_heads"),
            ([8, 12, 2, 4, 8, 10, 6], "n_kv_heads=8"),
            ([8, 12, 2, 4, 2, 0, 6], "vocab_size=0"),
            ([8, 12, 2, 4, 2, int.MinValue, 6], "vocab_size"),
            ([8, 12, 2, 4, 2, 10, 0], "seq_len=0"),
            ([int.MaxValue, 12, 2, 4, 2, 10, 6], "dim=2147483647"),
            ([8, 12, 2, 4, 2, 1 << 30, 6], "vocab_size=1073741824"),
            // Plausible but enormous: caught by the size check, with no allocation.
            ([65536, 1 << 20, 1024, 64, 8, 1 << 24, 1 << 24], "expected"),
            ([4096, 11008, 32, 32, 32, -32000, 2048], "expected"),
        ];
        foreach (var (header, expected) in cases)
        {
            var e = Rejects(dir, [.. Header(header), .. body], string.Join(",", header));
            Assert.Contains(expected, e.Message);
        }
    }

    [Fact]
    public void A_classifier_flag_that_contradicts_the_size_is_explained()
    {
        using var dir = new TempDir(nameof(A_classifier_flag_that_contradicts_the_size_is_explained));
        var shared = LegacyFile(Tiny, TinyWeights(Tiny, 3));
        shared[20] = unchecked((byte)-10); // vocab_size = -10: "separate classifier" but there is none
        shared[21] = shared[22] = shared[23] = 0xFF;
        Assert.Contains("sign of vocab_size", Rejects(dir, shared, "flag flipped").Message);
    }

    [Fact]
    public void Versioned_headers_other_than_1_are_explained()
    {
        using var dir = new TempDir(nameof(Versioned_headers_other_than_1_are_explained));
        var v1 = Version1File(Tiny, TinyWeights(Tiny, 4));
        var v2 = (byte[])v1.Clone();
        v2[4] = 2;
        Assert.Contains("version-2 (int8) checkpoints are not supported", Rejects(dir, v2, "v2").Message);
        var v7 = (byte[])v1.Clone();
        v7[4] = 7;
        Assert.Contains("version 7 is unknown", Rejects(dir, v7, "v7").Message);
        var flag = (byte[])v1.Clone();
        flag[36] = 2;
        Assert.Contains("shared_classifier flag is 2", Rejects(dir, flag, "flag 2").Message);
        Assert.Contains("too short", Rejects(dir, v1[..200], "short v1 header").Message);
    }

    [Fact]
    public void Random_bit_flips_in_the_header_give_a_valid_file_or_a_format_error()
    {
        using var dir = new TempDir(nameof(Random_bit_flips_in_the_header_give_a_valid_file_or_a_format_error));
        var random = new Random(99);
        foreach (var original in new[] { LegacyFile(Tiny, TinyWeights(Tiny, 5)), Version1File(Tiny, TinyWeights(Tiny, 5)) })
        {
            int headerBytes = original.Length == Llama2cCheckpoint.ExpectedFileSize(Tiny, 0) ? 28 : 40;
            string path = dir.Combine("flip.bin");
            int rejected = 0;
            for (int iteration = 0; iteration < 1000; iteration++)
            {
                var bytes = (byte[])original.Clone();
                for (int k = 1 + random.Next(3); k > 0; k--)
                    bytes[random.Next(headerBytes)] ^= (byte)(1 << random.Next(8));
                File.WriteAllBytes(path, bytes);
                if (!Hostile.OpensOrRejects(() => { using var c = Llama2cCheckpoint.Open(path); Hostile.Touch(c.Tensors); }, $"iteration {iteration}"))
                    rejected++;
            }
            // Almost any change to a size field changes the implied file size.
            Assert.True(rejected > 900, $"only {rejected} of 1000 flipped headers were rejected");
        }
    }
}
