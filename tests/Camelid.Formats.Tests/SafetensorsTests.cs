using System.Runtime.InteropServices;
using System.Text;
using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;
using Xunit.Abstractions;

namespace Camelid.Formats.Tests;

public class SafetensorsTests(ITestOutputHelper output)
{
    static byte[] Floats(params float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    /// <summary>u64 header length + header + data, with the JSON written out by hand.</summary>
    static byte[] File(string json, byte[] data) => new Bytes().U64((ulong)Encoding.UTF8.GetByteCount(json)).Raw(json).Raw(data).ToArray();

    [Fact]
    public void A_hand_written_file_is_read_as_the_spec_says()
    {
        using var dir = new TempDir(nameof(A_hand_written_file_is_read_as_the_spec_says));
        // Offsets are relative to the data; tensors listed out of offset order; header padded with spaces.
        string json = """{"b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}   """;
        var data = Floats(1, 2, 3, 4, 5, 6).Concat(new byte[] { 0x00, 0x3C, 0x00, 0xC0 }).ToArray(); // f16 1.0, -2.0
        string path = dir.File("m.safetensors", File(json, data));
        using var f = SafetensorsFile.Open(path);
        Assert.Equal(8 + Encoding.UTF8.GetByteCount(json), f.DataOffset);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, f.Metadata);
        Assert.Equal(["b", "a"], f.Tensors.Select(t => t.Name));
        var a = f.Find("a")!;
        Assert.Equal(GgmlType.F32, a.Type);
        Assert.Equal([2L, 3], a.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], a.ToFloats());
        var b = f.Find("b")!;
        Assert.Equal(GgmlType.F16, b.Type);
        Assert.Equal([1f, -2f], b.ToFloats());
        Assert.Null(f.Find("c"));
    }

    [Fact]
    public void Writer_output_round_trips_and_follows_the_reference_layout()
    {
        using var dir = new TempDir(nameof(Writer_output_round_trips_and_follows_the_reference_layout));
        var random = new Random(3);
        byte[] R(int n) { var b = new byte[n]; random.NextBytes(b); return b; }
        var tensors = new (string Name, GgmlType Type, long[] Shape, byte[] Data)[]
        {
            ("model.layers.0.self_attn.q_proj.weight", GgmlType.BF16, [3, 5], R(30)),
            ("model.norm.weight", GgmlType.F32, [5], R(20)),
            ("odd.f16", GgmlType.F16, [3], R(6)),
            ("scalar", GgmlType.F32, [], R(4)),
            ("empty", GgmlType.F32, [0, 7], []),
            ("ids", GgmlType.I64, [2], R(16)),
            ("f64", GgmlType.F64, [1, 1], R(8)),
            ("i32", GgmlType.I32, [2], R(8)),
            ("i16", GgmlType.I16, [1], R(2)),
            ("i8", GgmlType.I8, [3], R(3)),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        string path = dir.Combine("w.safetensors");
        SafetensorsWriter.Write(path, tensors, metadata);

        using var f = SafetensorsFile.Open(path);
        Assert.Equal(metadata, f.Metadata);
        Assert.Equal(0, f.DataOffset % 8);
        Assert.Equal(tensors.Length, f.Tensors.Count);
        foreach (var t in tensors)
        {
            var read = f.Find(t.Name)!;
            Assert.Equal(t.Type, read.Type);
            Assert.Equal(t.Shape, read.Shape);
            Assert.True(read.Bytes.SequenceEqual(t.Data), t.Name);
        }
        // Reference order: larger elements first, then by name, so every tensor is aligned to its element size.
        unsafe
        {
            foreach (var t in f.Tensors)
                Assert.Equal(0, (nint)t.Pointer % GgmlTypes.BlockBytes(t.Type));
        }
        Assert.Equal(["f64", "ids", "empty", "i32", "model.norm.weight", "scalar", "i16", "model.layers.0.self_attn.q_proj.weight", "odd.f16", "i8"],
            f.Tensors.Select(t => t.Name));
        Assert.Equal(tensors.Sum(t => (long)t.Data.Length), new FileInfo(path).Length - f.DataOffset);
        string header = Encoding.UTF8.GetString(System.IO.File.ReadAllBytes(path), 8, (int)f.DataOffset - 8);
        Assert.StartsWith("{\"__metadata__\":{", header);
    }

    [Fact]
    public void Writer_refuses_types_safetensors_cannot_hold_and_wrong_sizes()
    {
        using var dir = new TempDir(nameof(Writer_refuses_types_safetensors_cannot_hold_and_wrong_sizes));
        string path = dir.Combine("x.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("q", GgmlType.Q8_0, [32], new byte[34])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", GgmlType.F32, [2], new byte[4])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", GgmlType.F32, [1], new byte[4]), ("a", GgmlType.F32, [1], new byte[4])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("__metadata__", GgmlType.F32, [1], new byte[4])]));
    }

    const string GoodJson = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""";

    public static TheoryData<string, byte[], string> BadFiles()
    {
        var d = new TheoryData<string, byte[], string>();
        void Add(string name, byte[] bytes, string expected) => d.Add(name, bytes, expected);
        void Json(string name, string json, string expected, int dataBytes = 12) => Add(name, File(json, new byte[dataBytes]), expected);

        Add("empty", [], "too short");
        Add("7 bytes", new byte[7], "too short");
        Add("header length 2^63", new Bytes().U64(1UL << 63).Raw("{}").ToArray(), "runs past the end");
        Add("header length 2^64-1", new Bytes().U64(ulong.MaxValue).Raw("{}").ToArray(), "runs past the end");
        Add("header length beyond the file", new Bytes().U64(100).Raw("{}").ToArray(), "runs past the end");
        Add("header length 0", new Bytes().U64(0).ToArray(), "does not start with '{'");
        Json("not JSON", "{\"a\": [1, 2", "not valid JSON");
        Json("JSON array root", "[1, 2, 3]", "does not start with '{'");
        Json("trailing garbage in the header", GoodJson + "xyz", "not valid JSON");
        Json("nesting 5000 deep", "{\"a\":" + new string('[', 5000) + new string(']', 5000) + "}", "not valid JSON");
        Json("duplicate tensor", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", "appears twice");
        Json("unknown dtype F8_E4M3", """{"a":{"dtype":"F8_E4M3","shape":[12],"data_offsets":[0,12]}}""", "F8_E4M3");
        Json("unknown dtype BOOL", """{"a":{"dtype":"BOOL","shape":[12],"data_offsets":[0,12]}}""", "BOOL");
        Json("dtype not a string", """{"a":{"dtype":5,"shape":[3],"data_offsets":[0,12]}}""", "dtype must be a string");
        Json("missing shape", """{"a":{"dtype":"F32","data_offsets":[0,12]}}""", "'shape' is missing");
        Json("missing offsets", """{"a":{"dtype":"F32","shape":[3]}}""", "'data_offsets' is missing");
        Json("tensor not an object", """{"a":[1,2]}""", "expected an object");
        Json("negative dimension", """{"a":{"dtype":"F32","shape":[-3],"data_offsets":[0,12]}}""", "non-negative integers");
        Json("fractional dimension", """{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,12]}}""", "non-negative integers");
        Json("dimension 2^64", """{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,12]}}""", "non-negative integers");
        Json("shape product overflows", """{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,12]}}""", "too large");
        Json("9 dimensions", """{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,3],"data_offsets":[0,12]}}""", "dimensions");
        Json("three offsets", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4,12]}}""", "[begin, end]");
        Json("reversed offsets", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[12,0]}}""", "lie outside");
        Json("end past the data", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "lie outside");
        Json("offset 2^63", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[9223372036854775807,9223372036854775807]}}""", "lie outside");
        Json("size differs from shape", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}""", "needs 8 bytes");
        Json("overlapping tensors", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", "overlaps");
        Json("gap between tensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", "no gaps");
        Json("data not covered", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "cover 8 data bytes");
        Json("trailing data", GoodJson, "cover 12 data bytes", dataBytes: 13);
        Json("lone surrogate in a name", "{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", "not valid Unicode");
        Add("invalid UTF-8 in a name", new Bytes().U64(56).Raw("{\"").Raw([0xC3, 0x28]).Raw("\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}").Raw(new byte[12]).ToArray(), "not valid UTF-8");
        Json("metadata not strings", """{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""", "must be a string");
        Json("metadata not an object", """{"__metadata__":"x","a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""", "__metadata__ must be an object");
        return d;
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_files_are_rejected_with_a_clear_message(string name, byte[] bytes, string expected)
    {
        using var dir = new TempDir(nameof(Bad_files_are_rejected_with_a_clear_message));
        string path = dir.File("bad.safetensors", bytes);
        var e = Hostile.Rejects(() => { using var f = SafetensorsFile.Open(path); Hostile.Touch(f.Tensors); }, name);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_good_json_used_above_is_valid()
    {
        using var dir = new TempDir(nameof(The_good_json_used_above_is_valid));
        using var f = SafetensorsFile.Open(dir.File("ok.safetensors", File(GoodJson, new byte[12])));
        Assert.Equal(2, f.Tensors.Count);
    }

    static byte[] WrittenFile(TempDir dir)
    {
        string path = dir.Combine("src.safetensors");
        SafetensorsWriter.Write(path, [
            ("w", GgmlType.F16, [2, 3], Enumerable.Range(0, 12).Select(i => (byte)i).ToArray()),
            ("n", GgmlType.F32, [3], Floats(1, 2, 3)),
            ("e", GgmlType.BF16, [0], []),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        return System.IO.File.ReadAllBytes(path);
    }

    [Fact]
    public void Every_truncation_is_rejected()
    {
        using var dir = new TempDir(nameof(Every_truncation_is_rejected));
        var bytes = WrittenFile(dir);
        string path = dir.Combine("cut.safetensors");
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            System.IO.File.WriteAllBytes(path, bytes[..cut]);
            Hostile.Rejects(() => { using var f = SafetensorsFile.Open(path); Hostile.Touch(f.Tensors); }, $"cut at {cut} of {bytes.Length}");
        }
    }

    [Fact]
    public void Random_bit_flips_give_a_valid_file_or_a_format_error()
    {
        using var dir = new TempDir(nameof(Random_bit_flips_give_a_valid_file_or_a_format_error));
        var original = WrittenFile(dir);
        int headerEnd = 8 + (int)BitConverter.ToUInt64(original);
        var random = new Random(1234);
        string path = dir.Combine("flipped.safetensors");
        int opened = 0, rejected = 0;
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(3);
            for (int k = 0; k < flips; k++)
                bytes[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
            System.IO.File.WriteAllBytes(path, bytes);
            if (Hostile.OpensOrRejects(() => { using var f = SafetensorsFile.Open(path); Hostile.Touch(f.Tensors); }, $"iteration {iteration}"))
                opened++;
            else
                rejected++;
        }
        output.WriteLine($"opened {opened}, rejected {rejected}; largest allocation by one case so far: {Hostile.LargestAllocation / 1024} KiB");
        Assert.True(opened > 20 && rejected > 2000, $"opened {opened}, rejected {rejected}");
    }
}
