using System.Buffers.Binary;
using Camelid.Tensors.Quant;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests;

/// <summary>Dequantizer against a naive decoder written from the block structs of ggml-common.h: it locates
/// each element's bits one at a time (byte index, shift) instead of looping over packed bytes.</summary>
public class DequantizerTests(ITestOutputHelper output)
{
    public static TheoryData<GgmlType> Types() => new(TestData.AllTypes);

    [Theory]
    [MemberData(nameof(Types))]
    public void DequantizeRow_MatchesNaiveDecoderOnRandomBlocks(GgmlType type)
    {
        var rng = new Random(1000 + (int)type);
        int bs = GgmlTypes.BlockSize(type);
        int checkedValues = 0;
        foreach (int blocks in new[] { 1, 2, 3, 8 })
        {
            int n = bs == 1 ? 257 * blocks : bs * blocks;
            var bytes = TestData.RandomBlocks(rng, type, n);
            var fast = new float[n];
            Dequantizer.DequantizeRow(type, bytes, fast);
            for (int i = 0; i < n; i++)
            {
                float want = NaiveElement(type, bytes, i);
                // Same float operations in the same order: the values must be identical.
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(fast[i]),
                    $"{type} element {i}: naive {want}, Dequantizer {fast[i]}");
                checkedValues++;
            }
        }
        output.WriteLine($"{type}: {checkedValues} values identical to the naive decoder");
    }

    [Fact]
    public void DequantizeRow_RejectsShortSourceAndPartialBlocks()
    {
        Assert.Throws<ArgumentException>(() => Dequantizer.DequantizeRow(GgmlType.Q4_0, new byte[17], new float[32]));
        Assert.Throws<ArgumentException>(() => Dequantizer.DequantizeRow(GgmlType.Q4_K, new byte[1000], new float[100]));
        Assert.Throws<NotSupportedException>(() => Dequantizer.DequantizeRow(GgmlType.Q2_K, new byte[84], new float[256]));
    }

    static float Half(byte[] b, int off) => (float)BinaryPrimitives.ReadHalfLittleEndian(b.AsSpan(off));

    static int Nibble(byte[] b, int byteIndex, bool high) => high ? b[byteIndex] >> 4 : b[byteIndex] & 0xF;

    static int Bit(byte[] b, int bitIndex) => (b[bitIndex / 8] >> (bitIndex % 8)) & 1;

    /// <summary>Element i of a row, decoded on its own.</summary>
    static float NaiveElement(GgmlType type, byte[] row, int i)
    {
        int bs = GgmlTypes.BlockSize(type), bb = GgmlTypes.BlockBytes(type);
        int blk = i / bs * bb, j = i % bs;
        switch (type)
        {
            case GgmlType.F32: return BinaryPrimitives.ReadSingleLittleEndian(row.AsSpan(4 * i));
            case GgmlType.F16: return Half(row, 2 * i);
            case GgmlType.BF16: return BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(2 * i)) << 16);
            case GgmlType.Q4_0:
                return (Nibble(row, blk + 2 + j % 16, j >= 16) - 8) * Half(row, blk);
            case GgmlType.Q4_1:
                return Nibble(row, blk + 4 + j % 16, j >= 16) * Half(row, blk) + Half(row, blk + 2);
            case GgmlType.Q5_0:
                return ((Nibble(row, blk + 6 + j % 16, j >= 16) | (Bit(row, 8 * (blk + 2) + j) << 4)) - 16) * Half(row, blk);
            case GgmlType.Q5_1:
                return (Nibble(row, blk + 8 + j % 16, j >= 16) | (Bit(row, 8 * (blk + 4) + j) << 4)) * Half(row, blk) + Half(row, blk + 2);
            case GgmlType.Q8_0:
                return (sbyte)row[blk + 2 + j] * Half(row, blk);
            case GgmlType.Q4_K:
            case GgmlType.Q5_K:
            {
                int sub = j / 32;                      // sub-block of 32 with its own 6-bit scale and min
                var (sc, m) = KScaleMin(row, blk + 4, sub);
                int chunk = j / 64, lane = j % 32;     // a 64-element chunk uses 32 bytes: low nibbles, then high
                bool high = j % 64 >= 32;
                int q = Nibble(row, blk + (type == GgmlType.Q4_K ? 16 : 48) + 32 * chunk + lane, high);
                if (type == GgmlType.Q5_K)
                    q |= Bit(row, 8 * (blk + 16 + lane) + 2 * chunk + (high ? 1 : 0)) << 4;
                float d1 = Half(row, blk) * sc, m1 = Half(row, blk + 2) * m;
                return d1 * q - m1;
            }
            case GgmlType.Q6_K:
            {
                int half = j / 128, r = j % 128, quarter = r / 32, l = r % 32;
                // quarters 0,1 use low nibbles of ql[l], ql[l+32]; quarters 2,3 their high nibbles
                int low = Nibble(row, blk + 64 * half + l + 32 * (quarter % 2), quarter >= 2);
                int high2 = (row[blk + 128 + 32 * half + l] >> (2 * quarter)) & 3;
                int q = (low | (high2 << 4)) - 32;
                float d = Half(row, blk + 208);
                return d * (sbyte)row[blk + 192 + j / 16] * q;
            }
            case GgmlType.Q8_K:
                return BinaryPrimitives.ReadSingleLittleEndian(row.AsSpan(blk)) * (sbyte)row[blk + 4 + j];
            default: throw new NotSupportedException(type.ToString());
        }
    }

    /// <summary>The 6-bit scale and min of sub-block s, from the bit layout: scales 0-3 / mins 0-3 are the
    /// low 6 bits of bytes 0-3 / 4-7; scales 4-7 are the low nibbles of bytes 8-11 plus the top 2 bits of
    /// bytes 0-3, mins 4-7 the high nibbles of bytes 8-11 plus the top 2 bits of bytes 4-7.</summary>
    static (int scale, int min) KScaleMin(byte[] row, int off, int s)
    {
        if (s < 4)
            return (row[off + s] & 63, row[off + 4 + s] & 63);
        int k = s - 4;
        return ((row[off + 8 + k] & 0xF) | ((row[off + k] >> 6) << 4), (row[off + 8 + k] >> 4) | ((row[off + 4 + k] >> 6) << 4));
    }
}
