using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Reference;
using Camelid.Tensors.Threading;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests;

public unsafe class MatMulTests(ITestOutputHelper output)
{
    public static TheoryData<GgmlType, int, int, int> Cases()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in TestData.AllTypes)
        {
            if (type == GgmlType.Q8_K) continue; // an activation format, not a weight type
            foreach (int tokens in new[] { 1, 3, 5, 11 })
                foreach (int threads in new[] { 1, 2 })
                    data.Add(type, 512, tokens, threads);
        }
        // Rows the in-place kernels cannot take (160 is not a multiple of 128): decode falls back to the
        // unpacking path, prefill to the GEMM.
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q8_0 })
            foreach (int tokens in new[] { 1, 11 })
                data.Add(type, 160, tokens, 2);
        return data;
    }

    /// <summary>
    /// MatMul vs the naive reference (dequantize + double dot with unquantized x) for 37 rows (not a multiple
    /// of the prefill tile) × 512 (or 160) columns. Float weights: tolerance 1e-5·Σ|w·x|. Quantized weights: the
    /// activation-quantization bound Σ|w_c|·amax(block of x_c)/254 plus 1e-5·Σ|w·x|.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Multiply_MatchesNaiveReference(GgmlType type, int cols, int tokens, int threads)
    {
        const int rows = 37;
        if (cols % 128 != 0 && tokens > 4 && Gemm.IsSupported)
            Assert.False(MatMul.QuantizesActivations(type, cols, tokens), "rows the in-place kernels cannot take must keep the prefill GEMM");
        var rng = new Random(100 + (int)type * 7 + tokens);
        var wf = TestData.Gaussian(rng, rows * cols, 0.05f);
        long rowBytes = GgmlTypes.RowBytes(type, cols);
        var data = GC.AllocateArray<byte>((int)(rowBytes * rows), pinned: true);
        for (int r = 0; r < rows; r++)
            Quantizer.QuantizeRow(type, wf.AsSpan(r * cols, cols), data.AsSpan((int)(r * rowBytes), (int)rowBytes));
        var x = TestData.Gaussian(rng, tokens * cols);
        var y = new float[tokens * rows];
        var yRef = new float[tokens * rows];

        fixed (byte* p = data)
        {
            var w = new WeightMatrix(p, type, rows, cols);
            using var pool = new ComputePool(threads);
            MatMul.Multiply(w, x, y, tokens, pool);
            MatMul.Multiply(w, x, y, tokens, pool); // steady state: same result on a second call
            ReferenceMatMul.Multiply(w, x, yRef, tokens);

            var deq = new float[cols];
            int ab = GgmlTypes.IsQuantized(type) ? QuantDot.ActivationBlockSize(type) : cols;
            double worstRatio = 0, worstErr = 0;
            for (int r = 0; r < rows; r++)
            {
                Dequantizer.DequantizeRow(type, w.Row(r), deq);
                for (int t = 0; t < tokens; t++)
                {
                    double bound = 1e-7, abs = 0;
                    for (int b = 0; b < cols / ab; b++)
                    {
                        double amax = 0;
                        for (int c = b * ab; c < (b + 1) * ab; c++) amax = Math.Max(amax, Math.Abs(x[t * cols + c]));
                        for (int c = b * ab; c < (b + 1) * ab; c++)
                        {
                            abs += Math.Abs((double)deq[c] * x[t * cols + c]);
                            if (GgmlTypes.IsQuantized(type))
                                bound += Math.Abs(deq[c]) * amax / 254 * 1.0001;
                        }
                    }
                    bound += 1e-5 * abs;
                    if (!MatMul.QuantizesActivations(type, cols, tokens))
                    {
                        // fp32 activations (prefill GEMM): only summation order differs from the exact product.
                        double exact = 0;
                        for (int c = 0; c < cols; c++) exact += (double)deq[c] * x[t * cols + c];
                        Assert.True(Math.Abs(y[t * rows + r] - exact) <= 1e-5 * abs + 1e-7,
                            $"{type} T={tokens}: y[{t},{r}] = {y[t * rows + r]}, exact {exact}");
                    }
                    else if (QuantDot.HasIntegerDot(type))
                    {
                        // Same integer path row by row: tiling and threading must not change the result.
                        float single = QuantDot.Dot(type, w.Row(r), x.AsSpan(t * cols, cols));
                        Assert.True(Math.Abs(single - y[t * rows + r]) <= 1e-5 * abs + 1e-7,
                            $"{type} T={tokens}: y[{t},{r}] = {y[t * rows + r]}, single-row QuantDot {single}");
                    }
                    double err = Math.Abs(y[t * rows + r] - yRef[t * rows + r]);
                    worstRatio = Math.Max(worstRatio, err / bound);
                    worstErr = Math.Max(worstErr, err);
                    Assert.True(err <= bound, $"{type} T={tokens} threads={threads}: y[{t},{r}] = {y[t * rows + r]}, reference {yRef[t * rows + r]}, error {err} > {bound}");
                }
            }
            output.WriteLine($"{type} cols={cols} T={tokens} threads={threads}: max |y - ref| = {worstErr:E2}, worst error/bound = {worstRatio:F3}");
        }
    }

    [Fact]
    public void Multiply_UsesOnlyThePrefixOfLargerBuffersAndValidatesSizes()
    {
        const int rows = 4, cols = 32;
        var wf = TestData.Gaussian(new Random(3), rows * cols);
        var data = GC.AllocateArray<byte>(rows * cols * 4, pinned: true);
        Buffer.BlockCopy(wf, 0, data, 0, data.Length);
        fixed (byte* p = data)
        {
            var w = new WeightMatrix(p, GgmlType.F32, rows, cols);
            using var pool = new ComputePool(2);
            var x = TestData.Gaussian(new Random(4), 3 * cols);
            var y = Enumerable.Repeat(99f, 3 * rows + 5).ToArray();
            MatMul.Multiply(w, x, y, 3, pool);
            Assert.All(y.AsSpan(3 * rows).ToArray(), v => Assert.Equal(99f, v));
            Assert.Equal(ReferenceOps.Dot(wf.AsSpan(cols, cols), x.AsSpan(2 * cols, cols)), y[2 * rows + 1], 4);

            Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, x.AsSpan(0, 2 * cols), y, 3, pool));
            Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, x, new float[3 * rows - 1], 3, pool));
            MatMul.Multiply(w, x, y, 0, pool); // no tokens: nothing to do
        }
        Assert.Throws<ArgumentException>(() => new WeightMatrix(null, GgmlType.Q4_0, 2, 33));
        Assert.Throws<ArgumentNullException>(() => new WeightMatrix(null, GgmlType.Q4_0, 2, 32));
        Assert.Throws<NotSupportedException>(() => new WeightMatrix(null, GgmlType.Q2_K, 2, 256));
    }

    [Fact]
    public void Multiply_RejectsQ8KWeights()
    {
        var data = GC.AllocateArray<byte>(292, pinned: true);
        fixed (byte* p = data)
        {
            var w = new WeightMatrix(p, GgmlType.Q8_K, 1, 256);
            using var pool = new ComputePool(1);
            Assert.Throws<NotSupportedException>(() => MatMul.Multiply(w, new float[256], new float[1], 1, pool));
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void Multiply_AllocatesNothingInSteadyState(GgmlType type)
    {
        const int rows = 64, cols = 256;
        long rowBytes = GgmlTypes.RowBytes(type, cols);
        var data = GC.AllocateArray<byte>((int)(rowBytes * rows), pinned: true);
        var wf = TestData.Gaussian(new Random(9), cols);
        for (int r = 0; r < rows; r++)
            Quantizer.QuantizeRow(type, wf, data.AsSpan((int)(r * rowBytes), (int)rowBytes));
        var x = TestData.Gaussian(new Random(10), 5 * cols);
        var y = new float[5 * rows];
        fixed (byte* p = data)
        {
            var w = new WeightMatrix(p, type, rows, cols);
            foreach (int threads in new[] { 1, 2 })
            {
                using var pool = new ComputePool(threads);
                foreach (int tokens in new[] { 1, 5 })
                {
                    for (int i = 0; i < 3; i++) MatMul.Multiply(w, x, y, tokens, pool); // grow the scratch
                    // The best of three windows: a full parallel test run once saw 8,080 bytes in one window that
                    // reruns never reproduced (the thread's count moves with runtime work it does not control),
                    // while an allocation made by Multiply itself shows in every window of 20 calls.
                    long allocated = long.MaxValue;
                    for (int window = 0; window < 3 && allocated != 0; window++)
                    {
                        long before = GC.GetAllocatedBytesForCurrentThread();
                        for (int i = 0; i < 20; i++) MatMul.Multiply(w, x, y, tokens, pool);
                        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    }
                    Assert.True(allocated == 0, $"{type} T={tokens} threads={threads}: {allocated} bytes allocated by 20 calls (fewest of three windows)");
                }
            }
        }
    }

    /// <summary>
    /// Independent tokens (a decode step of unrelated sequences) get exactly what each gets alone, for batch sizes
    /// across the kernels' token groups (8 for the AVX2 Q4_0/Q8_0 kernels, 4 for the others).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.F16)]
    public void Multiply_IndependentTokensMatchEachTokenAlone(GgmlType type)
    {
        const int rows = 19, cols = 512, maxTokens = 19;
        long rowBytes = GgmlTypes.RowBytes(type, cols);
        var data = GC.AllocateArray<byte>((int)(rowBytes * rows), pinned: true);
        var wf = TestData.Gaussian(new Random(11), rows * cols, 0.05f);
        for (int r = 0; r < rows; r++)
            Quantizer.QuantizeRow(type, wf.AsSpan(r * cols, cols), data.AsSpan((int)(r * rowBytes), (int)rowBytes));
        var x = TestData.Gaussian(new Random(12), maxTokens * cols);
        fixed (byte* p = data)
        {
            var w = new WeightMatrix(p, type, rows, cols);
            using var pool = new ComputePool(2);
            var alone = new float[maxTokens * rows];
            for (int t = 0; t < maxTokens; t++)
                MatMul.Multiply(w, x.AsSpan(t * cols, cols), alone.AsSpan(t * rows, rows), 1, pool);
            foreach (int tokens in new[] { 2, 5, 8, 9, 16, 19 })
            {
                var y = new float[tokens * rows];
                MatMul.Multiply(w, x, y, tokens, pool, independentTokens: true);
                for (int i = 0; i < y.Length; i++)
                    Assert.True(alone[i] == y[i], $"{type}, {tokens} tokens: token {i / rows} row {i % rows} is {y[i]} in the batch, {alone[i]} alone");
            }
        }
    }
}
