using Camelid.Formats.Gguf;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Formats.Tests;

/// <summary>Truncated, oversized, misaligned, overlapping and bit-flipped GGUF files: each one must give a
/// ModelFormatException, within a time limit and without a large allocation.</summary>
public class GgufCorruptionTests(ITestOutputHelper output)
{
    static void OpenAndTouch(string path)
    {
        using var f = GgufFile.Open(path);
        Hostile.Touch(f.Tensors);
    }

    /// <summary>A small valid file with strings, arrays, nested arrays and three tensors; the last ends on the alignment.</summary>
    static byte[] SmallValidFile()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("llama.block_count", 1u);
        w.Add("tokenizer.ggml.tokens", new[] { "<unk>", "<s>", "</s>", "▁a" });
        w.Add("tokenizer.ggml.scores", new[] { 0f, -1f, -2f, -3.5f });
        w.Add("nested", new Array[] { new[] { 1, 2 }, new[] { "x" } });
        w.Add("eps", 1e-5f);
        w.AddTensor("a", GgmlType.F32, [3], new byte[12]);
        w.AddTensor("b", GgmlType.F16, [2, 3], Enumerable.Range(1, 12).Select(i => (byte)i).ToArray());
        w.AddTensor("c", GgmlType.F32, [8], Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var s = new MemoryStream();
        w.Write(s);
        return s.ToArray();
    }

    [Fact]
    public void The_small_file_itself_is_valid()
    {
        using var dir = new TempDir(nameof(The_small_file_itself_is_valid));
        var bytes = SmallValidFile();
        using var f = GgufFile.Open(dir.File("ok.gguf", bytes));
        Assert.Equal(3, f.Tensors.Count);
        Assert.Equal(bytes.Length, f.DataOffset + 32 + 32 + 32); // the last tensor ends exactly at the end of the file
    }

    [Fact]
    public void Every_truncation_of_a_small_file_is_rejected()
    {
        using var dir = new TempDir(nameof(Every_truncation_of_a_small_file_is_rejected));
        var bytes = SmallValidFile();
        string path = dir.Combine("cut.gguf");
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            File.WriteAllBytes(path, bytes[..cut]);
            Hostile.Rejects(() => OpenAndTouch(path), $"cut at {cut} of {bytes.Length}");
        }
    }

    [SharedDataFact("models/stories260K.gguf")]
    public void Truncations_of_a_real_model_are_rejected()
    {
        using var dir = new TempDir(nameof(Truncations_of_a_real_model_are_rejected));
        var bytes = File.ReadAllBytes(TestPaths.Shared("models/stories260K.gguf"));
        string path = dir.Combine("cut.gguf");
        int tried = 0;
        foreach (int cut in Hostile.CutPoints(bytes.Length, dense: 64, sparse: 120))
        {
            File.WriteAllBytes(path, bytes[..cut]);
            var e = Hostile.Rejects(() => OpenAndTouch(path), $"cut at {cut}");
            Assert.Contains(path, e.Message);
            tried++;
        }
        Assert.True(tried > 150);
        output.WriteLine($"{tried} cut points rejected; largest allocation by one case so far: {Hostile.LargestAllocation / 1024} KiB");
    }

    /// <summary>The start of a file: magic, version, counts.</summary>
    static Bytes Header(ulong tensors, ulong kvs, uint version = 3) => new Bytes().Raw("GGUF").U32(version).U64(tensors).U64(kvs);

    public static TheoryData<string, byte[], string> HandBuiltBadFiles()
    {
        var data = new TheoryData<string, byte[], string>();
        void Add(string name, Bytes b, string expected) => data.Add(name, b.ToArray(), expected);

        Add("empty", new Bytes(), "too short");
        Add("bad magic", new Bytes().Raw("GGUX").U32(3).U64(0).U64(0), "not a GGUF file");
        Add("version 1", Header(0, 0, version: 1), "version 1");
        Add("version 4", Header(0, 0, version: 4), "version 4");
        Add("tensor count 2^60", Header(1UL << 60, 0), "tensors");
        Add("kv count 2^60", Header(0, 1UL << 60), "metadata entries");
        Add("key length 2^62", Header(0, 1).U64(1UL << 62).Zeros(16), "string of");
        Add("key length 2^64-1", Header(0, 1).U64(ulong.MaxValue).Zeros(16), "string of");
        Add("string value length 2^62", Header(0, 1).Str("k").U32(8).U64(1UL << 62).Zeros(8), "string of");
        Add("unknown value type", Header(0, 1).Str("k").U32(13).U32(0), "unknown value type 13");
        Add("value type 2^32-1", Header(0, 1).Str("k").U32(uint.MaxValue).U32(0), "unknown value type");
        Add("u8 array count 2^61", Header(0, 1).Str("k").U32(9).U32(0).U64(1UL << 61).Zeros(8), "claims");
        Add("string array count 2^40", Header(0, 1).Str("k").U32(9).U32(8).U64(1UL << 40).Zeros(8), "claims");
        Add("f64 array count 2^63", Header(0, 1).Str("k").U32(9).U32(12).U64(1UL << 63).Zeros(8), "claims");
        Add("array of unknown type", Header(0, 1).Str("k").U32(9).U32(77).U64(1).Zeros(8), "unknown type 77");
        Add("array count beyond the data", Header(0, 1).Str("k").U32(9).U32(4).U64(5).U32(1).U32(2), "claims");
        var deep = Header(0, 1).Str("k").U32(9);
        for (int i = 0; i < 1000; i++)
            deep.U32(9).U64(1);
        Add("arrays nested 1000 deep", deep.U32(0).U64(0), "nests arrays");
        Add("duplicate key", Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2), "appears twice");
        Add("alignment 3", Header(0, 1).Str("general.alignment").U32(4).U32(3), "not a power of two");
        Add("alignment 0", Header(0, 1).Str("general.alignment").U32(4).U32(0), "not a power of two");
        Add("alignment 2^31", Header(0, 1).Str("general.alignment").U32(4).U32(1u << 31), "not a power of two");
        Add("alignment as string", Header(0, 1).Str("general.alignment").U32(8).Str("32"), "general.alignment");
        Add("alignment as u64 2^64-1", Header(0, 1).Str("general.alignment").U32(10).U64(ulong.MaxValue), "general.alignment");

        // Tensor infos: name, n_dims, dims, type, offset; then the data at the next multiple of 32.
        Bytes OneTensor(uint nDims, ulong[] dims, uint type, ulong offset, int dataBytes)
        {
            var b = Header(1, 0).Str("t").U32(nDims);
            foreach (var d in dims)
                b.U64(d);
            return b.U32(type).U64(offset).PadTo(32).Zeros(dataBytes);
        }
        Add("5 dimensions", OneTensor(5, [1, 1, 1, 1, 1], 0, 0, 32), "dimensions");
        Add("n_dims 2^32-1", OneTensor(uint.MaxValue, [1], 0, 0, 32), "dimensions");
        Add("dimension 2^40", OneTensor(1, [1UL << 40], 0, 0, 32), "dimension");
        Add("dimension 2^64-1", OneTensor(2, [ulong.MaxValue, 1], 0, 0, 32), "dimension");
        Add("element count overflows", OneTensor(4, [1 << 20, 1 << 20, 1 << 20, 1 << 20], 0, 0, 1 << 17), "too large");
        Add("unknown tensor type 99", OneTensor(1, [8], 99, 0, 32), "unknown type 99");
        Add("unknown tensor type 4 (removed Q4_2)", OneTensor(1, [8], 4, 0, 32), "unknown type 4");
        Add("unsupported tensor type Q2_K", OneTensor(1, [256], (uint)GgmlType.Q2_K, 0, 96), "does not support");
        Add("quantized row not a whole block", OneTensor(1, [40], (uint)GgmlType.Q8_0, 0, 64), "multiple of 32");
        Add("data past end of file", OneTensor(1, [16], 0, 0, 32), "extends past the end");
        Add("offset past end of file", OneTensor(1, [8], 0, 1024, 32), "extends past the end");
        Add("offset 2^63", OneTensor(1, [8], 0, 1UL << 63, 32), "extends past the end");
        Add("offset 2^64-32", OneTensor(1, [8], 0, ulong.MaxValue - 31, 32), "extends past the end");
        Add("misaligned offset", OneTensor(1, [4], 0, 4, 32), "not aligned");
        Add("no data section at all", Header(1, 0).Str("t").U32(1).U64(8).U32(0).U64(0), "extends past the end");
        // The data section would start past the end of the file, and an offset near 2^63 wraps negative in
        // signed arithmetic: a check done as "offset + size <= length" in longs would accept it.
        Add("offset 2^63 and no data section", Header(1, 0).Str("t").U32(1).U64(8).U32(0).U64(1UL << 63), "extends past the end");

        Bytes TwoTensors(ulong offsetA, ulong offsetB, string nameB = "b") =>
            Header(2, 0).Str("a").U32(1).U64(16).U32(0).U64(offsetA).Str(nameB).U32(1).U64(16).U32(0).U64(offsetB).PadTo(32).Zeros(128);
        Add("overlapping tensors", TwoTensors(0, 32), "overlaps");
        Add("the same offset twice", TwoTensors(64, 64), "overlaps");
        Add("duplicate tensor name", TwoTensors(0, 64, nameB: "a"), "appears twice");
        return data;
    }

    [Theory]
    [MemberData(nameof(HandBuiltBadFiles))]
    public void Hand_built_bad_files_are_rejected_with_a_clear_message(string name, byte[] bytes, string expected)
    {
        using var dir = new TempDir(nameof(Hand_built_bad_files_are_rejected_with_a_clear_message));
        string path = dir.File("bad.gguf", bytes);
        var e = Hostile.Rejects(() => OpenAndTouch(path), name);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_two_tensor_layout_is_valid_when_the_offsets_are_right()
    {
        // Guards the overlap cases above: the same bytes with offsets 0 and 64 open fine.
        using var dir = new TempDir(nameof(The_two_tensor_layout_is_valid_when_the_offsets_are_right));
        var b = Header(2, 0).Str("a").U32(1).U64(16).U32(0).U64(0).Str("b").U32(1).U64(16).U32(0).U64(64).PadTo(32).Zeros(128);
        using var f = GgufFile.Open(dir.File("ok.gguf", b.ToArray()));
        Assert.Equal(2, f.Tensors.Count);
    }

    [Fact]
    public void Random_bit_flips_give_a_valid_file_or_a_format_error()
    {
        using var dir = new TempDir(nameof(Random_bit_flips_give_a_valid_file_or_a_format_error));
        var original = SmallValidFile();
        int headerEnd = original.Length - 96; // flip only in the header and tensor infos, where it matters
        var random = new Random(20240601);
        string path = dir.Combine("flipped.gguf");
        int opened = 0, rejected = 0;
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int k = 0; k < flips; k++)
                bytes[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, bytes);
            if (Hostile.OpensOrRejects(() => OpenAndTouch(path), $"iteration {iteration}"))
                opened++;
            else
                rejected++;
        }
        output.WriteLine($"opened {opened}, rejected {rejected}; largest allocation by one case so far: {Hostile.LargestAllocation / 1024} KiB");
        // Both outcomes occur: flips in float values or string bytes keep the file valid, flips in sizes do not.
        Assert.True(opened > 100 && rejected > 1000, $"opened {opened}, rejected {rejected}");
    }

    [Fact]
    public void Random_bytes_after_a_valid_magic_are_rejected_or_read()
    {
        using var dir = new TempDir(nameof(Random_bytes_after_a_valid_magic_are_rejected_or_read));
        var random = new Random(7);
        string path = dir.Combine("noise.gguf");
        for (int iteration = 0; iteration < 500; iteration++)
        {
            var noise = new byte[random.Next(0, 2048)];
            random.NextBytes(noise);
            // Small counts, so the reader gets past the header and into the noise.
            var bytes = Header((ulong)random.Next(0, 4), (ulong)random.Next(0, 4)).Raw(noise).ToArray();
            File.WriteAllBytes(path, bytes);
            Hostile.OpensOrRejects(() => OpenAndTouch(path), $"iteration {iteration}");
        }
    }
}
