using Xunit.Abstractions;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Tests;

/// <summary>
/// The in-place decode kernels (FusedDot, used by MatMul for decode steps and batches of independent tokens) against the unpacking integer
/// path (QuantDot.Dot, itself tested against the scalar reference): same levels and scales, so the results
/// differ only by float summation order. Lengths cover 1..22 steps of each kernel; the adversarial data puts
/// every weight at an extreme level and every activation at ±127 with matching signs, the case in which
/// an int16 pair sum would saturate if a bound were wrong.
/// </summary>
public unsafe class FusedDotTests(ITestOutputHelper output)
{
    public static TheoryData<GgmlType, int, bool> Cases()
    {
        var data = new TheoryData<GgmlType, int, bool>();
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K })
            foreach (int cols in new[] { 128, 256, 384, 512, 768, 2048, 2816, 5632 })
                foreach (bool adversarial in new[] { false, true })
                    if (cols % QuantDot.ActivationBlockSize(type) == 0 && (type is GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q8_0 ? cols % 128 == 0 : cols % 256 == 0))
                        data.Add(type, cols, adversarial);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_MatchesTheUnpackingIntegerPath(GgmlType type, int cols, bool adversarial)
    {
        const int rows = 9;
        var (data, x) = QuantizedRows(type, rows, cols, adversarial, seed: cols * 31 + (int)type);

        var y = new float[rows];
        fixed (byte* p = data)
        {
            var w = new WeightMatrix(p, type, rows, cols);
            using var pool = new ComputePool(1);
            MatMul.Multiply(w, x, y, 1, pool);
            var deq = new float[cols];
            double worst = 0;
            for (int r = 0; r < rows; r++)
            {
                float expected = QuantDot.Dot(type, w.Row(r), x);
                Dequantizer.DequantizeRow(type, w.Row(r), deq);
                double scale = 0;
                for (int c = 0; c < cols; c++) scale += Math.Abs((double)deq[c] * x[c]);
                double err = Math.Abs(y[r] - expected);
                worst = Math.Max(worst, err / (scale + 1e-30));
                Assert.True(err <= 2e-5 * scale + 1e-6, $"{type} cols={cols} row {r}: fused {y[r]}, unpacking path {expected}, error {err}, Σ|w·x| {scale}");
            }
            output.WriteLine($"{type} cols={cols} adversarial={adversarial} fused kernel: {(FusedDot.IsSupported(type, cols) ? "yes" : "no (fallback)")}, worst error / Σ|w·x| = {worst:E2}");
        }
    }

    public static TheoryData<GgmlType, int, bool> Avx2Cases()
    {
        var data = new TheoryData<GgmlType, int, bool>();
        foreach (var row in Cases())
            if ((GgmlType)row[0] != GgmlType.Q4_1)
                data.Add((GgmlType)row[0], (int)row[1], (bool)row[2]);
        return data;
    }

    /// <summary>The AVX2 kernels directly, so they are checked on AVX-512 machines (where MatMul picks the 512-bit ones) too.</summary>
    [Theory]
    [MemberData(nameof(Avx2Cases))]
    public void Avx2Kernels_MatchTheUnpackingIntegerPath(GgmlType type, int cols, bool adversarial)
    {
        if (!FusedDot.IsSupportedAvx2(type, cols))
        {
            output.WriteLine("this CPU has no AVX2 + FMA: nothing to check");
            return;
        }
        const int rows = 5;
        var (data, x) = QuantizedRows(type, rows, cols, adversarial, seed: cols * 17 + (int)type);
        long rowBytes = GgmlTypes.RowBytes(type, cols);
        var act = new QuantizedActivations();
        act.Quantize(type, x, 1, cols);
        var deq = new float[cols];
        fixed (byte* p = data)
            for (int r = 0; r < rows; r++)
            {
                var w = new WeightMatrix(p, type, rows, cols);
                float expected = QuantDot.Dot(type, w.Row(r), x);
                float actual = Avx2Dot(type, p + r * rowBytes, act, 0, 1)[0];
                Dequantizer.DequantizeRow(type, w.Row(r), deq);
                double scale = 0;
                for (int c = 0; c < cols; c++) scale += Math.Abs((double)deq[c] * x[c]);
                Assert.True(Math.Abs(actual - expected) <= 2e-5 * scale + 1e-6, $"{type} cols={cols} row {r}: AVX2 {actual}, unpacking path {expected}");
            }

        // A batch of any size gives each token exactly what it gets alone (continuous batching relies on it).
        int maxBatch = InterleavedActivations.MaxTokens;
        var tokens = new float[maxBatch * cols];
        for (int t = 0; t < maxBatch; t++)
            TestData.Gaussian(new Random(t + 100), cols).CopyTo(tokens, t * cols);
        var batchAct = new QuantizedActivations();
        batchAct.Quantize(type, tokens, maxBatch, cols);
        fixed (byte* p = data)
        {
            var alone = new float[maxBatch];
            for (int t = 0; t < maxBatch; t++)
                alone[t] = Avx2Dot(type, p, batchAct, t, 1)[0];
            for (int size = 2; size <= maxBatch; size++)
                for (int first = 0; first + size <= maxBatch; first += size)
                {
                    var batch = Avx2Dot(type, p, batchAct, first, size);
                    for (int t = 0; t < size; t++)
                        Assert.Equal(alone[first + t], batch[t]);
                }
        }
    }

    /// <summary>One row times tokens [first, first + count) through the AVX2 kernel MatMul uses for this type.</summary>
    static float[] Avx2Dot(GgmlType type, byte* row, QuantizedActivations act, int first, int count)
    {
        var y = new float[count];
        fixed (float* yp = y)
        {
            var group = new InterleavedActivations();
            group.Prepare(type, act, first, count);
            FusedDot.DotInterleavedAvx2(row, group, yp, 1);
        }
        return y;
    }

    /// <summary>Quantized weight rows (pinned) and activations; adversarial data puts every weight at an extreme
    /// level and every activation at ±3 with matching signs, the case in which an int16 pair sum would saturate.</summary>
    static (byte[] Data, float[] X) QuantizedRows(GgmlType type, int rows, int cols, bool adversarial, int seed)
    {
        var rng = new Random(seed);
        var wf = TestData.Gaussian(rng, rows * cols, 0.05f);
        var x = TestData.Gaussian(rng, cols);
        if (adversarial)
            for (int i = 0; i < cols; i++)
            {
                float sign = rng.Next(2) == 0 ? -1 : 1;
                for (int r = 0; r < rows; r++) wf[r * cols + i] = sign * (r + 1) * 0.01f;
                x[i] = sign * 3f;
            }
        long rowBytes = GgmlTypes.RowBytes(type, cols);
        var data = GC.AllocateArray<byte>((int)(rowBytes * rows), pinned: true);
        for (int r = 0; r < rows; r++)
            Quantizer.QuantizeRow(type, wf.AsSpan(r * cols, cols), data.AsSpan((int)(r * rowBytes), (int)rowBytes));
        return (data, x);
    }
}
