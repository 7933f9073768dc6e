using System.Runtime.InteropServices;
using System.Text.Json;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests.Quant;

/// <summary>
/// NF4 with double quantization against tests/fixtures/quant/nf4, written by tools/make_nf4_fixtures.py
/// (an independent float32 numpy port of bitsandbytes' quantize_4bit / dequantize_4bit on CUDA).
/// Codes and scales must match bit for bit. Dequantized floats must match with 0 ulp: each is one
/// float32 product code·absmax' (absmax' itself one product and one sum), computed in the same order
/// with no fused multiply-add on either side, so there is no rounding freedom left.
/// </summary>
public class Nf4Tests(ITestOutputHelper output)
{
    static readonly string Dir = TestPaths.Fixture("quant/nf4");

    public static TheoryData<string> Cases() => new() { "ties2x64", "w3x172", "w4x256", "w7x37", "w1x50", "w5x3290" };

    [Fact]
    public void CodeTable_IsTheQLoRAPapersNf4()
    {
        var expected = ReadFloats(Manifest().GetProperty("nf4_code").GetString()!);
        AssertBitwiseEqual(expected, Nf4.Code, "NF4 code");
        Assert.Equal(-1f, Nf4.Code[0]);
        Assert.Equal(0f, Nf4.Code[7]);
        Assert.Equal(1f, Nf4.Code[15]);
        AssertBitwiseEqual(ReadFloats(Manifest().GetProperty("nf4_thresholds").GetString()!), Nf4.DecisionThresholds, "NF4 thresholds");
        for (int i = 0; i < 15; i++)
        {
            float midpoint = (float)(((double)Nf4.Code[i] + Nf4.Code[i + 1]) / 2);
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(midpoint) - BitConverter.SingleToInt32Bits(Nf4.DecisionThresholds[i]));
            Assert.True(ulps <= 1, $"threshold {i} is {ulps} ulps from the midpoint of codes {i} and {i + 1}");
        }
    }

    [Fact]
    public void DynamicMap_IsBitsandbytesSignedMap()
    {
        var expected = ReadFloats(Manifest().GetProperty("dynamic_map").GetString()!);
        AssertBitwiseEqual(expected, DynamicMap.Signed, "dynamic map");
        var map = DynamicMap.Signed;
        Assert.Equal(0f, map[127]);
        Assert.Equal(1f, map[255]);
        for (int i = 0; i < 127; i++)
            Assert.Equal(-map[254 - i], map[i]);
        for (int i = 1; i < 256; i++)
            Assert.True(map[i - 1] < map[i], $"map not increasing at {i}");
    }

    [Fact]
    public void Nf4Encode_CountsThresholdsStrictlyBelow_TiesGoDown()
    {
        var t = Nf4.DecisionThresholds;
        for (int i = 0; i < t.Length; i++)
        {
            Assert.Equal(i, Nf4.Encode(t[i]));
            Assert.Equal(i + 1, Nf4.Encode(MathF.BitIncrement(t[i])));
            Assert.Equal(i, Nf4.Encode(MathF.BitDecrement(t[i])));
        }
        Assert.Equal(0, Nf4.Encode(float.NaN));
        Assert.Equal(0, Nf4.Encode(-2f));
        Assert.Equal(15, Nf4.Encode(2f));
        Assert.Equal(7, Nf4.Encode(0f));
        Assert.Equal(7, Nf4.Encode(-0f));

        var rng = new Random(6);
        for (int k = 0; k < 100_000; k++)
        {
            float x = (float)(rng.NextDouble() * 2.2 - 1.1);
            int below = 0;
            foreach (float threshold in t)
                below += x > threshold ? 1 : 0;
            Assert.Equal(below, Nf4.Encode(x));
        }
    }

    [Fact]
    public void DynamicEncode_NearestByFloatMidpoint_TiesKeepTheEvenIndex()
    {
        var map = DynamicMap.Signed;
        for (int i = 0; i < 255; i++)
        {
            float mid = (map[i] + map[i + 1]) * 0.5f;
            int even = i % 2 == 0 ? i : i + 1;
            Assert.Equal(even, DynamicMap.Encode(mid));
            if (mid > map[i] && MathF.BitDecrement(mid) > map[i])
                Assert.Equal(i, DynamicMap.Encode(MathF.BitDecrement(mid)));
            if (mid < map[i + 1] && MathF.BitIncrement(mid) < map[i + 1])
                Assert.Equal(i + 1, DynamicMap.Encode(MathF.BitIncrement(mid)));
            Assert.Equal(i, DynamicMap.Encode(map[i]));
        }
        Assert.Equal(255, DynamicMap.Encode(1f));
        Assert.Equal(255, DynamicMap.Encode(1.5f));
        Assert.Equal(0, DynamicMap.Encode(-1f));
        Assert.Equal(0, DynamicMap.Encode(float.NaN));
    }

    [Fact]
    public void Packing_PutsTheFirstElementInTheHighNibble_AndPadsAnOddTailWithZero()
    {
        var m = Nf4Matrix.Quantize([1f, 0.5f, -1f], 1, 3, doubleQuantize: false);
        // 1 -> code 15, 0.5 -> 12 (0.3893 < 0.5 <= 0.5017), -1 -> 0, padding 0 -> 7.
        Assert.Equal(new byte[] { 0xFC, 0x07 }, m.PackedCodes.ToArray());
        Assert.Equal(1f, m.Absmax[0]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Quantize_MatchesBitsandbytesReference(string name)
    {
        var c = Case(name);
        var m = Nf4Matrix.Quantize(c.Weights, c.Rows, c.Cols);

        Assert.True(m.IsDoubleQuantized);
        Assert.Equal(c.Codes.Length, m.PackedCodes.Length);
        int codeMismatches = CountMismatches(c.Codes, m.PackedCodes);
        int absmaxMismatches = CountMismatches(c.QuantizedAbsmax, m.QuantizedAbsmax);
        output.WriteLine($"{name}: {c.Rows}x{c.Cols}, {m.BlockCount} blocks, {codeMismatches} of {c.Codes.Length} code bytes and {absmaxMismatches} of {c.QuantizedAbsmax.Length} absmax bytes differ");
        Assert.Equal(0, codeMismatches);
        Assert.Equal(0, absmaxMismatches);
        Assert.Equal(c.OffsetBits, BitConverter.SingleToUInt32Bits(m.AbsmaxOffset));
        AssertBitwiseEqual(c.SecondLevelAbsmax, m.SecondLevelAbsmax, "absmax2");
        var restored = Enumerable.Range(0, m.BlockCount).Select(m.BlockAbsmax).ToArray();
        AssertBitwiseEqual(c.RestoredAbsmax, restored, "restored absmax");

        var single = Nf4Matrix.Quantize(c.Weights, c.Rows, c.Cols, doubleQuantize: false);
        Assert.Equal(0, CountMismatches(c.Codes, single.PackedCodes));
        AssertBitwiseEqual(c.Absmax, single.Absmax, "absmax");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dequantize_MatchesBitsandbytesReference_ToTheBit(string name)
    {
        var c = Case(name);
        if (c.Dequantized is null)
            return; // the large case carries scales only; its dequantization follows from the restored absmax test
        var fromParts = Nf4Matrix.FromParts(c.Rows, c.Cols, c.Codes, c.QuantizedAbsmax, c.SecondLevelAbsmax, BitConverter.UInt32BitsToSingle(c.OffsetBits));
        var quantized = Nf4Matrix.Quantize(c.Weights, c.Rows, c.Cols);
        foreach (var m in new[] { fromParts, quantized })
        {
            var y = new float[c.Rows * c.Cols];
            m.DequantizeRows(0, c.Rows, y);
            AssertBitwiseEqual(c.Dequantized, y, $"{name} dequantized");
        }

        var single = Nf4Matrix.FromParts(c.Rows, c.Cols, c.Codes, c.Absmax);
        var ys = new float[c.Rows * c.Cols];
        single.DequantizeRows(0, c.Rows, ys);
        AssertBitwiseEqual(c.DequantizedSingle!, ys, $"{name} dequantized without double quantization");
    }

    [Fact]
    public void ZeroBlock_KeepsBitsandbytesCodeZero()
    {
        var c = Case("w3x172"); // block 1 (flat 64..127) is all zero
        var m = Nf4Matrix.Quantize(c.Weights, c.Rows, c.Cols);
        Assert.All(m.PackedCodes.Slice(32, 32).ToArray(), b => Assert.Equal(0, b));
        var y = new float[c.Rows * c.Cols];
        m.DequantizeRows(0, c.Rows, y);
        Assert.All(y[64..128], v => Assert.Equal(-m.BlockAbsmax(1), v));
        output.WriteLine($"all-zero block dequantizes to {y[64]:g9} under double quantization (bitsandbytes does the same)");

        var single = Nf4Matrix.Quantize(c.Weights, c.Rows, c.Cols, doubleQuantize: false);
        single.DequantizeRows(0, c.Rows, y);
        Assert.All(y[64..128], v => Assert.Equal(0f, v));
    }

    public static TheoryData<int, int> OddShapes() => new() { { 1, 1 }, { 1, 63 }, { 3, 172 }, { 7, 37 }, { 5, 333 }, { 17, 130 }, { 2, 4099 } };

    [Theory]
    [MemberData(nameof(OddShapes))]
    public void VectorizedDequantize_EqualsScalar_ForEveryRowRange(int rows, int cols)
    {
        var w = Weights(new Random(rows * 1000 + cols), rows * cols);
        foreach (bool dq in new[] { true, false })
        {
            var m = Nf4Matrix.Quantize(w, rows, cols, dq);
            var all = new float[rows * cols];
            m.DequantizeRange(0, rows * cols, all, vectorized: false);
            for (int first = 0; first < rows; first++)
            {
                for (int count = 0; first + count <= rows; count++)
                {
                    var fast = new float[count * cols];
                    var slow = new float[count * cols];
                    m.DequantizeRange(first * cols, count * cols, slow, vectorized: false);
                    m.DequantizeRows(first, count, fast);
                    AssertBitwiseEqual(slow, fast, $"{rows}x{cols} rows {first}+{count}");
                    AssertBitwiseEqual(all.AsSpan(first * cols, count * cols), fast, $"{rows}x{cols} rows {first}+{count} vs whole");
                }
            }
        }
    }

    [Fact]
    public void VectorizedDequantize_EqualsScalar_ForEveryStartAndLength()
    {
        const int n = 300;
        var m = Nf4Matrix.Quantize(Weights(new Random(300), n), 1, n);
        var slow = new float[n];
        var fast = new float[n];
        for (int start = 0; start < n; start++)
        {
            for (int count = 0; start + count <= n; count++)
            {
                m.DequantizeRange(start, count, slow, vectorized: false);
                m.DequantizeRange(start, count, fast, vectorized: true);
                AssertBitwiseEqual(slow.AsSpan(0, count), fast.AsSpan(0, count), $"start {start}, count {count}");
            }
        }
    }

    [Fact]
    public void RoundTrip_ErrorIsWithinHalfTheWidestCodeGap_PlusTheAbsmaxError()
    {
        const int rows = 48, cols = 1000;
        var w = Weights(new Random(48), rows * cols);
        var m = Nf4Matrix.Quantize(w, rows, cols);
        var y = new float[rows * cols];
        m.DequantizeRows(0, rows, y);

        float nf4HalfGap = MaxHalfGap(Nf4.Code);
        float mapHalfGap = MaxHalfGap(DynamicMap.Signed);
        double worstRatio = 0;
        for (int b = 0; b < m.BlockCount; b++)
        {
            int start = b * Nf4Matrix.BlockSize, end = Math.Min(w.Length, start + Nf4Matrix.BlockSize);
            float absmax = 0;
            for (int i = start; i < end; i++)
                absmax = Math.Max(absmax, Math.Abs(w[i]));
            float restored = m.BlockAbsmax(b);
            // (absmax − offset)/absmax₂ lies in [−1, 1], so its 8-bit code is off by at most the map's half gap.
            float absmax2 = m.SecondLevelAbsmax[b / Nf4Matrix.AbsmaxBlockSize];
            Assert.True(Math.Abs(restored - absmax) <= absmax2 * mapHalfGap * 1.001f + 1e-6f * absmax,
                $"block {b}: absmax {absmax} restored as {restored}");

            // |w − c·a'| ≤ a·|w/a − c| + |c|·|a − a'| with |c| ≤ 1; the slack covers float32 rounding of w·(1/a) and c·a'.
            double bound = absmax * (nf4HalfGap + 1e-6) + Math.Abs(restored - absmax) + 1e-6 * absmax;
            for (int i = start; i < end; i++)
            {
                double error = Math.Abs(w[i] - y[i]);
                Assert.True(error <= bound, $"weight {i}: {w[i]} came back as {y[i]} (bound {bound})");
                worstRatio = Math.Max(worstRatio, error / bound);
            }
        }
        output.WriteLine($"{rows}x{cols}: worst error / bound = {worstRatio:F3}; NF4 half gap {nf4HalfGap}, dynamic map half gap {mapHalfGap}; {m.Bytes} bytes for {w.Length} weights ({8.0 * m.Bytes / w.Length:F3} bits each)");
    }

    [Fact]
    public void Bytes_CountsCodesAndScales()
    {
        var w = Weights(new Random(1), 4 * 256);
        Assert.Equal(512 + 16 + 4 + 4, Nf4Matrix.Quantize(w, 4, 256).Bytes);
        Assert.Equal(512 + 16 * 4, Nf4Matrix.Quantize(w, 4, 256, doubleQuantize: false).Bytes);
        // 7x37: 130 code bytes, 5 blocks -> 5 absmax bytes, one absmax2, the offset.
        Assert.Equal(130 + 5 + 4 + 4, Nf4Matrix.Quantize(Weights(new Random(2), 7 * 37), 7, 37).Bytes);
    }

    [Fact]
    public void ArgumentErrors_SayWhatIsWrong()
    {
        var w = new float[12];
        Assert.Throws<ArgumentOutOfRangeException>(() => Nf4Matrix.Quantize(w, 0, 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => Nf4Matrix.Quantize(w, 3, -4));
        var wrongCount = Assert.Throws<ArgumentException>(() => Nf4Matrix.Quantize(w, 3, 5));
        Assert.Contains("15 weights", wrongCount.Message);

        w[7] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Nf4Matrix.Quantize(w, 3, 4)).Message);
        w[7] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => Nf4Matrix.Quantize(w, 3, 4));

        var m = Nf4Matrix.Quantize(new float[12], 3, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.DequantizeRows(4, 0, new float[0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.DequantizeRows(2, 2, new float[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.DequantizeRows(-1, 1, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.DequantizeRows(0, -1, new float[4]));
        Assert.Throws<ArgumentException>(() => m.DequantizeRows(1, 2, new float[7]));
        m.DequantizeRows(3, 0, Span<float>.Empty);

        Assert.Throws<ArgumentException>(() => Nf4Matrix.FromParts(3, 4, new byte[5], new byte[1], new float[1], 0f));
        Assert.Throws<ArgumentException>(() => Nf4Matrix.FromParts(3, 4, new byte[6], new byte[2], new float[1], 0f));
        Assert.Throws<ArgumentException>(() => Nf4Matrix.FromParts(3, 4, new byte[6], new byte[1], new float[0], 0f));
        Assert.Throws<ArgumentException>(() => Nf4Matrix.FromParts(3, 4, new byte[6], new float[2]));
    }

    static float[] Weights(Random rng, int n)
    {
        var w = TestData.Gaussian(rng, n, 0.02f);
        for (int i = 0; i < n; i += 97)
            w[i] *= 15f;
        return w;
    }

    static float MaxHalfGap(ReadOnlySpan<float> sortedValues)
    {
        float widest = 0;
        for (int i = 1; i < sortedValues.Length; i++)
            widest = Math.Max(widest, sortedValues[i] - sortedValues[i - 1]);
        return widest / 2;
    }

    static int CountMismatches(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int mismatches = 0;
        for (int i = 0; i < expected.Length; i++)
            mismatches += expected[i] != actual[i] ? 1 : 0;
        return mismatches;
    }

    static void AssertBitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:g9} (0x{BitConverter.SingleToUInt32Bits(expected[i]):x8}), got {actual[i]:g9} (0x{BitConverter.SingleToUInt32Bits(actual[i]):x8})");
        }
    }

    static JsonElement Manifest() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "manifest.json"))).RootElement;

    static float[] ReadFloats(string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Dir, file))).ToArray();

    static float[] ReadHalves(string file) =>
        MemoryMarshal.Cast<byte, Half>(File.ReadAllBytes(Path.Combine(Dir, file))).ToArray().Select(h => (float)h).ToArray();

    sealed record FixtureCase(int Rows, int Cols, float[] Weights, byte[] Codes, float[] Absmax, byte[] QuantizedAbsmax,
        float[] SecondLevelAbsmax, float[] RestoredAbsmax, uint OffsetBits, float[]? Dequantized, float[]? DequantizedSingle);

    static FixtureCase Case(string name)
    {
        var e = Manifest().GetProperty("cases").GetProperty(name);
        string File(string key) => e.GetProperty(key).GetString()!;
        string weights = File("weights");
        return new FixtureCase(
            e.GetProperty("rows").GetInt32(),
            e.GetProperty("cols").GetInt32(),
            weights.EndsWith(".f16") ? ReadHalves(weights) : ReadFloats(weights),
            System.IO.File.ReadAllBytes(Path.Combine(Dir, File("codes"))),
            ReadFloats(File("absmax")),
            System.IO.File.ReadAllBytes(Path.Combine(Dir, File("quantized_absmax"))),
            ReadFloats(File("absmax2")),
            ReadFloats(File("restored_absmax")),
            e.GetProperty("offset_bits").GetUInt32(),
            e.TryGetProperty("dequantized", out var dq) ? ReadFloats(dq.GetString()!) : null,
            e.TryGetProperty("dequantized_single", out var dqs) ? ReadFloats(dqs.GetString()!) : null);
    }
}
