using Camelid.Tensors.Kernels;

namespace Camelid.Tensors.Tests;

public class HalfPrecisionTests
{
    [Theory]
    [InlineData(0x3F800000, 0x3F80)]   // 1
    [InlineData(unchecked((int)0xC0000000), 0xC000)] // -2
    [InlineData(0x3F808000, 0x3F80)]   // 1 + 2^-8: exactly halfway between 0x3F80 and 0x3F81, rounds to even
    [InlineData(0x3F818000, 0x3F82)]   // 1 + 3·2^-8: halfway between 0x3F81 and 0x3F82, rounds to even
    [InlineData(0x3F808001, 0x3F81)]   // just above halfway
    [InlineData(0x3F807FFF, 0x3F80)]   // just below halfway
    [InlineData(0x7F800000, 0x7F80)]   // +inf
    [InlineData(0x7F7FFFFF, 0x7F80)]   // float.MaxValue rounds up to +inf
    public void SingleToBf16_RoundsToNearestEven(int floatBits, int expected)
        => Assert.Equal((ushort)expected, HalfPrecision.SingleToBf16(BitConverter.Int32BitsToSingle(floatBits)));

    [Fact]
    public void SingleToBf16_KeepsNaNAndMakesItQuiet()
    {
        float signalling = BitConverter.Int32BitsToSingle(0x7F800001);
        ushort bits = HalfPrecision.SingleToBf16(signalling);
        Assert.True(float.IsNaN(HalfPrecision.Bf16ToSingle(bits)));
        Assert.Equal(0x40, bits & 0x40);
    }

    [Fact]
    public void Bf16ToSingle_VectorPathMatchesScalarForEveryLength()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 257; n++)
        {
            var src = new ushort[n];
            for (int i = 0; i < n; i++) src[i] = (ushort)rng.Next(0, 65536);
            var dst = new float[n];
            HalfPrecision.Bf16ToSingle(src, dst);
            for (int i = 0; i < n; i++)
                Assert.Equal(src[i] << 16, BitConverter.SingleToInt32Bits(dst[i]));
        }
    }
}

public class HalfBitsTests
{
    [Fact]
    public void HalfBitsToSingle_IsExactForAll65536Inputs()
    {
        for (int h = 0; h < 65536; h++)
        {
            float want = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float got = HalfPrecision.HalfBitsToSingle((ushort)h);
            if (float.IsNaN(want))
                Assert.True(float.IsNaN(got), $"0x{h:x4}");
            else
                Assert.Equal(BitConverter.SingleToInt32Bits(want), BitConverter.SingleToInt32Bits(got));
        }
    }
}
