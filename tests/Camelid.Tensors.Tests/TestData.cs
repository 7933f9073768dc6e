using System.Buffers.Binary;
using Camelid.Tensors.Quant;

namespace Camelid.Tensors.Tests;

/// <summary>Deterministic random inputs for the kernel tests.</summary>
static class TestData
{
    public static readonly GgmlType[] QuantTypes =
        [GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    public static readonly GgmlType[] AllTypes =
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, .. QuantTypes, GgmlType.Q8_K];

    public static float[] Gaussian(Random rng, int n, float scale = 1f)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }

    /// <summary>Random block bytes whose fp16/fp32 scale fields hold finite values of a sane size, so a
    /// decoder sees every bit pattern of the quants but no inf/NaN scales.</summary>
    public static byte[] RandomBlocks(Random rng, GgmlType type, int elements)
    {
        var bytes = new byte[GgmlTypes.RowBytes(type, elements)];
        rng.NextBytes(bytes);
        int bb = GgmlTypes.BlockBytes(type);
        for (int b = 0; b < bytes.Length / bb; b++)
        {
            var blk = bytes.AsSpan(b * bb, bb);
            foreach (int off in HalfScaleOffsets(type))
                BinaryPrimitives.WriteHalfLittleEndian(blk[off..], (Half)((rng.NextDouble() * 2 - 1) * 0.05));
            if (type == GgmlType.Q8_K)
                BinaryPrimitives.WriteSingleLittleEndian(blk, (float)((rng.NextDouble() * 2 - 1) * 0.05));
        }
        if (type == GgmlType.F32)
        {
            var f = Gaussian(rng, elements);
            for (int i = 0; i < elements; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), f[i]);
        }
        if (type is GgmlType.F16 or GgmlType.BF16)
        {
            var f = Gaussian(rng, elements);
            for (int i = 0; i < elements; i++)
            {
                ushort bits = type == GgmlType.F16 ? BitConverter.HalfToUInt16Bits((Half)f[i]) : Kernels.HalfPrecision.SingleToBf16(f[i]);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), bits);
            }
        }
        return bytes;
    }

    static int[] HalfScaleOffsets(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q6_K => [208],
        _ => [],
    };
}
