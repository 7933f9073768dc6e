using Camelid.Tensors.Quant;

namespace Camelid.Tensors.Tests;

/// <summary>The AVX-512 row dequantizers used by the prefill GEMM against the reference Dequantizer
/// (itself bit-identical to llama.cpp's): every output bit must agree.</summary>
public unsafe class FastDequantizerTests
{
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void FastDequantize_IsBitIdenticalToTheReference(GgmlType type)
    {
        if (!FastDequantizer.IsSupported(type))
            return; // nothing to compare on a CPU without AVX-512; the GEMM then uses the reference itself
        var rng = new Random((int)type);
        foreach (int n in new[] { 256, 512, 2048, 5632 })
        {
            var x = TestData.Gaussian(rng, n, 0.05f);
            for (int i = 0; i < n; i += 97) x[i] *= 40; // outliers stretch the block scales
            var packed = new byte[GgmlTypes.RowBytes(type, n)];
            Quantizer.QuantizeRow(type, x, packed);
            var expected = new float[n];
            var actual = new float[n];
            Dequantizer.DequantizeRow(type, packed, expected);
            fixed (byte* p = packed) fixed (float* y = actual)
                FastDequantizer.DequantizeRow(type, p, y, n);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{type} n={n} [{i}]: fast {actual[i]:R}, reference {expected[i]:R}");
        }
    }
}
