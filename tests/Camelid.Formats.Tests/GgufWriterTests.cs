using System.Runtime.InteropServices;
using Camelid.Formats.Gguf;
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Tests;

public class GgufWriterTests
{
    /// <summary>One value of every GGUF type, as the reader returns it, plus arrays of each and nested arrays.</summary>
    static readonly (string Key, object Value)[] EveryValueType =
    [
        ("u8", (byte)200), ("i8", (sbyte)-100), ("u16", (ushort)60000), ("i16", (short)-30000),
        ("u32", 4000000000u), ("i32", -2000000000), ("f32", 3.25f), ("f32.nan", float.NaN), ("bool.true", true), ("bool.false", false),
        ("str", "héllo ▁wörld 🦙"), ("str.empty", ""), ("u64", ulong.MaxValue), ("i64", long.MinValue), ("f64", Math.PI),
        ("a.u8", new byte[] { 0, 1, 255 }), ("a.i8", new sbyte[] { -128, 0, 127 }), ("a.u16", new ushort[] { 1, 65535 }),
        ("a.i16", new short[] { -32768, 32767 }), ("a.u32", new uint[] { 0, uint.MaxValue }), ("a.i32", new[] { int.MinValue, -1, int.MaxValue }),
        ("a.f32", new[] { -0.0f, 1e-30f, float.PositiveInfinity }), ("a.bool", new[] { true, false, true }),
        ("a.str", new[] { "a", "", "▁b", "\n<s>\n" }), ("a.u64", new[] { 0UL, ulong.MaxValue }), ("a.i64", new[] { long.MinValue, 42L }),
        ("a.f64", new[] { double.Epsilon, -1.5 }), ("a.empty", Array.Empty<int>()), ("a.str.empty", Array.Empty<string>()),
        ("a.nested", new Array[] { new[] { 1, 2, 3 }, new[] { "x", "y" }, Array.Empty<float>(), new Array[] { new byte[] { 7 } } }),
    ];

    static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    static byte[] Floats(params float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    [Theory]
    [InlineData(3u, 32)]
    [InlineData(3u, 64)]
    [InlineData(2u, 32)]
    [InlineData(2u, 64)]
    [InlineData(3u, 1)]
    public void Every_value_type_and_tensor_round_trips_bit_exactly(uint version, int alignment)
    {
        using var dir = new TempDir(nameof(Every_value_type_and_tensor_round_trips_bit_exactly));
        var w = new GgufWriter { Version = version };
        if (alignment != 32)
            w.Add("general.alignment", (uint)alignment);
        foreach (var (key, value) in EveryValueType)
            w.Add(key, value);
        // Sizes chosen so that most tensors end off the alignment and need padding.
        var tensors = new (string Name, GgmlType Type, long[] Shape, byte[] Data)[]
        {
            ("scalar", GgmlType.F32, [], Floats(7f)),
            ("vec3", GgmlType.F32, [3], Floats(1, 2, 3)),
            ("f16", GgmlType.F16, [3, 5], Random(30, 1)),
            ("bf16", GgmlType.BF16, [1, 7], Random(14, 2)),
            ("q8", GgmlType.Q8_0, [2, 64], Random(2 * 2 * 34, 3)),
            ("q4k", GgmlType.Q4_K, [1, 256], Random(144, 4)),
            ("q6k.3d", GgmlType.Q6_K, [2, 1, 256], Random(2 * 210, 5)),
            ("empty", GgmlType.F32, [0, 4], []),
            ("4d", GgmlType.F32, [1, 2, 1, 3], Floats(1, 2, 3, 4, 5, 6)),
        };
        foreach (var t in tensors)
            w.AddTensor(t.Name, t.Type, t.Shape, t.Data);
        string path = dir.Combine("all.gguf");
        w.Write(path);

        using var f = GgufFile.Open(path);
        Assert.Equal(version, f.Version);
        Assert.Equal(alignment, f.Alignment);
        Assert.Equal(EveryValueType.Length + (alignment != 32 ? 1 : 0), f.MetadataKeys.Count);
        Assert.Equal(EveryValueType.Select(kv => kv.Key), f.MetadataKeys.Where(k => k != "general.alignment"));
        foreach (var (key, value) in EveryValueType)
            AssertSameValue(value, f.Metadata.Get(key)!, key);
        Assert.Equal(tensors.Select(t => t.Name), f.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var read = f.Find(t.Name)!;
            Assert.Equal(t.Type, read.Type);
            Assert.Equal(t.Shape, read.Shape);
            Assert.True(read.Bytes.SequenceEqual(t.Data), t.Name);
            unsafe { Assert.Equal(0, (nint)read.Pointer % alignment); } // the map starts page-aligned
        }
        Assert.Equal(0, f.DataOffset % alignment);
        long dataBytes = tensors.Sum(t => (t.Data.Length + alignment - 1) / alignment * alignment);
        Assert.Equal(f.DataOffset + dataBytes, new FileInfo(path).Length);

        // Writing what was read gives the same file again.
        var again = new GgufWriter { Version = version };
        foreach (var key in f.MetadataKeys)
            again.Add(key, f.Metadata.Get(key)!);
        foreach (var t in f.Tensors)
            again.AddTensor(t);
        var copy = new MemoryStream();
        again.Write(copy);
        Assert.Equal(File.ReadAllBytes(path), copy.ToArray());
    }

    static void AssertSameValue(object expected, object actual, string key)
    {
        Assert.True(expected.GetType() == actual.GetType() || expected is Array && actual is Array, $"{key}: {expected.GetType()} vs {actual.GetType()}");
        if (expected is Array e)
        {
            var a = (Array)actual;
            Assert.Equal(e.Length, a.Length);
            if (e.GetType().GetElementType() != typeof(Array))
                Assert.Equal(e.GetType(), a.GetType());
            for (int i = 0; i < e.Length; i++)
                AssertSameValue(e.GetValue(i)!, a.GetValue(i)!, $"{key}[{i}]");
        }
        else if (expected is float f)
            Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits((float)actual));
        else if (expected is double d)
            Assert.Equal(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits((double)actual));
        else
            Assert.Equal(expected, actual);
    }

    /// <summary>The writer's bytes against a file laid out by hand from the spec.</summary>
    [Fact]
    public void A_tiny_file_matches_the_spec_byte_for_byte()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("n", 7u);
        w.AddTensor("a", GgmlType.F32, [3], Floats(1, 2, 3));
        w.AddTensor("b", GgmlType.F32, [2, 1], Floats(4, 5));
        var written = new MemoryStream();
        w.Write(written);

        var expected = new Bytes()
            .Raw("GGUF").U32(3).U64(2).U64(2)
            .Str("general.architecture").U32(8).Str("llama")
            .Str("n").U32(4).U32(7)
            .Str("a").U32(1).U64(3).U32(0).U64(0)
            .Str("b").U32(2).U64(1).U64(2).U32(0).U64(32) // dims innermost first; offset = 12 bytes padded to 32
            .PadTo(32)
            .F32(1).F32(2).F32(3).PadTo(32)
            .F32(4).F32(5).PadTo(32)
            .ToArray();
        Assert.Equal(expected, written.ToArray());
    }

    /// <summary>Streamed tensors give the same file as tensors handed over in memory.</summary>
    [Fact]
    public void Streamed_tensors_write_the_same_bytes_as_in_memory_ones()
    {
        var q8 = Random(2 * 2 * 34, 3);
        var f32 = Floats(1, 2, 3);
        var inMemory = new GgufWriter();
        var streamed = new GgufWriter();
        foreach (var w in new[] { inMemory, streamed })
            w.Add("general.architecture", "llama");
        inMemory.AddTensor("q8", GgmlType.Q8_0, [2, 64], q8);
        inMemory.AddTensor("vec3", GgmlType.F32, [3], f32);
        // Written in two pieces, as a producer that converts a tensor block by block does.
        streamed.AddTensor("q8", GgmlType.Q8_0, [2, 64], s => { s.Write(q8, 0, 50); s.Write(q8.AsSpan(50)); });
        streamed.AddTensor("vec3", GgmlType.F32, [3], s => s.Write(f32));
        var a = new MemoryStream();
        var b = new MemoryStream();
        inMemory.Write(a);
        streamed.Write(b);
        Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Fact]
    public void A_producer_that_writes_the_wrong_byte_count_fails_the_write()
    {
        foreach (int n in new[] { 11, 13 })
        {
            var w = new GgufWriter();
            w.AddTensor("vec3", GgmlType.F32, [3], s => s.Write(new byte[n]));
            var e = Assert.Throws<InvalidOperationException>(() => w.Write(new MemoryStream()));
            Assert.Contains("vec3", e.Message);
        }
        Assert.Throws<ArgumentException>(() => new GgufWriter().AddTensor("t", GgmlType.Q8_0, [16], _ => { }));
    }

    [Fact]
    public void A_file_without_tensors_ends_after_its_metadata()
    {
        using var dir = new TempDir(nameof(A_file_without_tensors_ends_after_its_metadata));
        var w = new GgufWriter();
        w.Add("tokenizer.ggml.tokens", new[] { "<unk>", "a" });
        string path = dir.Combine("vocab.gguf");
        w.Write(path);
        long expectedLength = 24 + (8 + "tokenizer.ggml.tokens".Length) + 4 + 4 + 8 + (8 + 5) + (8 + 1);
        Assert.Equal(expectedLength, new FileInfo(path).Length);
        using var f = GgufFile.Open(path);
        Assert.Empty(f.Tensors);
        Assert.Equal(["<unk>", "a"], f.Metadata.TryGetStringArray("tokenizer.ggml.tokens")!);
    }

    [Fact]
    public void Bad_writer_input_is_refused_when_added()
    {
        var w = new GgufWriter();
        w.Add("k", 1);
        Assert.Throws<ArgumentException>(() => w.Add("k", 2));
        Assert.Throws<ArgumentException>(() => w.Add("obj", new object()));
        Assert.Throws<ArgumentException>(() => w.Add("dec", 1.5m));
        Assert.Throws<ArgumentException>(() => w.Add("strs", new string[] { "a", null! }));
        Assert.Throws<ArgumentException>(() => w.Add("2d", new int[2, 2]));
        Assert.Throws<ArgumentException>(() => w.Add("general.alignment", 48u));
        Assert.Throws<ArgumentException>(() => w.Add("general.alignment", "32"));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [2], new byte[7]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.Q8_0, [16], new byte[17]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", (GgmlType)5, [1], new byte[4]));
        w.AddTensor("t", GgmlType.F32, [1], new byte[4]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter { Version = 1 });
    }
}
