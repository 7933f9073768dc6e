using System.Runtime.InteropServices;
using Camelid.Tensors.Benchmarking;

namespace Camelid.Tensors.Tests;

/// <summary>The machine-probe loops compute what their operation counts claim: checked against scalar twins.</summary>
public unsafe class PeakLoopsTests
{
    [Fact]
    public void Read_SumsEveryLong_ForEveryLengthAndTail()
    {
        var random = new Random(1);
        var data = new long[1024 / 8];
        for (int i = 0; i < data.Length; i++)
            data[i] = random.NextInt64(long.MinValue, long.MaxValue);
        fixed (long* p = data)
        {
            for (int bytes = 0; bytes <= 1024; bytes += 64)
            {
                long expected = 0;
                for (int i = 0; i < bytes / 8; i++)
                    expected = unchecked(expected + data[i]);
                Assert.Equal(expected, PeakLoops.Read((byte*)p, bytes));
            }
        }
        long address = (long)Marshal.AllocHGlobal(128);
        Assert.Throws<ArgumentException>(() => PeakLoops.Read((byte*)address, 100));
        Marshal.FreeHGlobal((nint)address);
    }

    [Theory]
    [InlineData("int8_madd_512", 16)]
    [InlineData("int8_madd_256", 8)]
    public void Int8Madd_IsTwelveChainsOfMaddubswThenMaddwd(string name, int lanes)
    {
        var loop = PeakLoops.Compute.Single(l => l.Name == name);
        Assert.Equal(12 * lanes * 4 * 2, loop.OpsPerIteration); // 4 u8·s8 products per int32 lane, 2 operations each
        if (!loop.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => loop.Run(1));
            return;
        }
        for (int n = 0; n <= 4; n++)
        {
            long expected = 0;
            for (int chain = 1; chain <= 12; chain++)
            {
                int c = chain;
                for (int i = 0; i < n; i++)
                    c = MaddubswThenMaddwd(c, 3);
                expected += (long)c * lanes;
            }
            Assert.Equal((int)expected, (int)loop.Run(n)); // the vector sum wraps in int32
        }
    }

    [Fact]
    public void Vnni_CountsFourProductsPerLane()
    {
        var loop = PeakLoops.Compute.Single(l => l.Name == "int8_vnni_256");
        Assert.Equal(12 * 8 * 4 * 2, loop.OpsPerIteration);
        if (!loop.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => loop.Run(1));
            return;
        }
        // Each iteration adds 4 · 5 · 3 = 60 to every lane of every chain.
        Assert.Equal(8 * (78 + 12 * 60 * 3), loop.Run(3));
    }

    [Theory]
    [InlineData("fp32_fma_512", 16)]
    [InlineData("fp32_fma_256", 8)]
    public void Fma_IsTwelveChainsOfFusedMultiplyAdd(string name, int lanes)
    {
        var loop = PeakLoops.Compute.Single(l => l.Name == name);
        Assert.Equal(12 * lanes * 2, loop.OpsPerIteration);
        if (!loop.IsSupported)
            return;
        float[] starts = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.1f, 1.2f, 1.3f];
        foreach (int n in new[] { 0, 1, 1000 })
        {
            double expected = 0;
            foreach (float start in starts)
            {
                float c = start;
                for (int i = 0; i < n; i++)
                    c = MathF.FusedMultiplyAdd(c, 0.999999f, 0.000001f);
                expected += c * lanes;
            }
            Assert.InRange(loop.Run(n), (long)expected - 1, (long)expected); // the loop truncates its float sum
        }
    }

    /// <summary>One int32 lane through vpmaddubsw (u8 × s8, adjacent pairs summed with int16 saturation) and
    /// vpmaddwd with ones (adjacent int16 summed into int32).</summary>
    static int MaddubswThenMaddwd(int lane, sbyte s)
    {
        var bytes = BitConverter.GetBytes(lane);
        short Pair(byte a, byte b) => (short)Math.Clamp(a * s + b * s, short.MinValue, short.MaxValue);
        return Pair(bytes[0], bytes[1]) + Pair(bytes[2], bytes[3]);
    }
}
