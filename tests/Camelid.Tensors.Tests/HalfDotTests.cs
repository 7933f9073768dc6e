using Camelid.Tensors.Kernels;

namespace Camelid.Tensors.Tests;

/// <summary>The in-place fp16/bf16 decode dot against widening each weight exactly and summing in double,
/// for every length 0..257 (all vector steps and tails) with subnormal, signed-zero and extreme fp16 values.</summary>
public unsafe class HalfDotTests
{
    [Fact]
    public void F16AndBf16_MatchExactWidening_ForEveryLengthAndSpecialValues()
    {
        var rng = new Random(5);
        ushort[] specials = [0x0000, 0x8000, 0x0001, 0x83FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00, 0xBC00];
        for (int n = 0; n <= 257; n++)
        {
            var f16 = new ushort[n];
            var bf16 = new ushort[n];
            var x = new float[n];
            for (int i = 0; i < n; i++)
            {
                f16[i] = i % 7 == 3 ? specials[rng.Next(specials.Length)] : BitConverter.HalfToUInt16Bits((Half)(rng.NextDouble() * 2 - 1));
                bf16[i] = (ushort)(BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1) * 100) >> 16);
                x[i] = (float)(rng.NextDouble() * 2 - 1);
            }
            double expected16 = 0, expected8 = 0, scale16 = 0, scale8 = 0;
            for (int i = 0; i < n; i++)
            {
                double w16 = (double)BitConverter.UInt16BitsToHalf(f16[i]);
                double wb = BitConverter.Int32BitsToSingle(bf16[i] << 16);
                expected16 += w16 * x[i]; scale16 += Math.Abs(w16 * x[i]);
                expected8 += wb * x[i]; scale8 += Math.Abs(wb * x[i]);
            }
            fixed (ushort* a = f16) fixed (ushort* b = bf16) fixed (float* xp = x)
            {
                float got16 = HalfDot.DotF16(a, xp, n);
                float got8 = HalfDot.DotBf16(b, xp, n);
                Assert.True(Math.Abs(got16 - expected16) <= 1e-6 * scale16 + 1e-30, $"F16 n={n}: {got16} vs {expected16}");
                Assert.True(Math.Abs(got8 - expected8) <= 1e-6 * scale8 + 1e-30, $"BF16 n={n}: {got8} vs {expected8}");
            }
        }
    }
}
