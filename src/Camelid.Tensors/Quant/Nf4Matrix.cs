using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Camelid.Tensors.Quant;

/// <summary>
/// A frozen weight matrix in QLoRA's storage format, bit-compatible with bitsandbytes'
/// <c>quantize_4bit(W, quant_type="nf4", blocksize=64, compress_statistics=True)</c> on its CUDA path:
/// <list type="bullet">
/// <item>the row-major flattened matrix is cut into blocks of 64 (rows need not align with blocks; the last
/// block may be partial); each block keeps absmax = max |w| and each weight the <see cref="Nf4"/> code of
/// w·(1/absmax), the reciprocal rounded to float32 first;</item>
/// <item>two codes per byte, the element with the even flat index in the high nibble; an odd element count
/// ends with the code of a padding zero in the last low nibble;</item>
/// <item>double quantization: offset = mean of the absmax values, then (absmax − offset) is quantized in
/// blocks of 256 to one <see cref="DynamicMap"/> byte each, with one float32 absmax per 256-block;</item>
/// <item>dequantization: absmax' = map[q]·absmax₂ + offset, w' = code[nibble]·absmax', each a single
/// float32 operation, so the result is bit-identical to bitsandbytes' fp32 output.</item>
/// </list>
/// Quirk kept for compatibility: an all-zero block scales 0 by 1/0 = ∞, and NaN falls to code 0 (−1.0),
/// so with double quantization that block comes back as −absmax', a small value that is not zero.
/// </summary>
public sealed class Nf4Matrix
{
    public const int BlockSize = 64;
    public const int AbsmaxBlockSize = 256;

    const int BlocksPerQuantizeTask = 4096;

    static readonly Vector256<float> CodeLowHalf = Vector256.Create(Nf4.Code[..8]);
    static readonly Vector256<float> CodeHighHalf = Vector256.Create(Nf4.Code[8..]);

    readonly byte[] packedCodes;       // ((n + 1) / 2)
    readonly float[]? absmax;          // (blocks), only without double quantization
    readonly byte[]? quantizedAbsmax;  // (blocks), indices into DynamicMap.Signed
    readonly float[]? absmax2;         // (ceil(blocks / 256))
    readonly float absmaxOffset;

    Nf4Matrix(int rows, int cols, byte[] packedCodes, float[]? absmax, byte[]? quantizedAbsmax, float[]? absmax2, float absmaxOffset)
    {
        Rows = rows;
        Cols = cols;
        this.packedCodes = packedCodes;
        this.absmax = absmax;
        this.quantizedAbsmax = quantizedAbsmax;
        this.absmax2 = absmax2;
        this.absmaxOffset = absmaxOffset;
    }

    public int Rows { get; }
    public int Cols { get; }
    public int BlockCount => (int)(((long)Rows * Cols + BlockSize - 1) / BlockSize);
    public bool IsDoubleQuantized => quantizedAbsmax != null;

    /// <summary>Storage held: packed codes plus the scales (quantized absmax, second-level absmax and offset, or fp32 absmax).</summary>
    public long Bytes => packedCodes.LongLength
        + (quantizedAbsmax is null ? 4L * absmax!.Length : quantizedAbsmax.LongLength + 4L * absmax2!.Length + sizeof(float));

    /// <summary>Two NF4 codes per byte, element 2k in the high nibble of byte k. (ceil(n / 2))</summary>
    public ReadOnlySpan<byte> PackedCodes => packedCodes;

    /// <summary>First-level fp32 absmax per 64-block; empty when double-quantized. (blocks)</summary>
    public ReadOnlySpan<float> Absmax => absmax;

    /// <summary>Per 64-block, the dynamic-map index of (absmax − offset)/absmax₂; empty when not double-quantized. (blocks)</summary>
    public ReadOnlySpan<byte> QuantizedAbsmax => quantizedAbsmax;

    /// <summary>absmax₂: one fp32 per 256 first-level blocks; empty when not double-quantized. (ceil(blocks / 256))</summary>
    public ReadOnlySpan<float> SecondLevelAbsmax => absmax2;

    /// <summary>The mean of the first-level absmax values subtracted before the second quantization (0 when not double-quantized).</summary>
    public float AbsmaxOffset => absmaxOffset;

    /// <summary>The absmax a block dequantizes with: stored, or restored from the double quantization.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float BlockAbsmax(int block) => quantizedAbsmax is null
        ? absmax![block]
        : DynamicMap.Signed[quantizedAbsmax[block]] * absmax2![block / AbsmaxBlockSize] + absmaxOffset;

    /// <summary>Quantizes a row-major (rows, cols) matrix; O(n), parallel over blocks.</summary>
    /// <exception cref="ArgumentException">A dimension is not positive, the span does not hold rows·cols values, or a weight is NaN or infinite.</exception>
    public static unsafe Nf4Matrix Quantize(ReadOnlySpan<float> weights, int rows, int cols, bool doubleQuantize = true)
    {
        int n = CheckShape(rows, cols);
        if (weights.Length != n)
            throw new ArgumentException($"a {rows}x{cols} matrix has {n} weights, but {weights.Length} were given", nameof(weights));

        int blocks = (n + BlockSize - 1) / BlockSize;
        var codes = new byte[(n + 1) / 2];
        var blockAbsmax = new float[blocks];
        fixed (float* source = weights)
        {
            nint address = (nint)source;
            int tasks = (blocks + BlocksPerQuantizeTask - 1) / BlocksPerQuantizeTask;
            Parallel.For(0, tasks, task =>
            {
                int end = Math.Min(blocks, (task + 1) * BlocksPerQuantizeTask);
                for (int block = task * BlocksPerQuantizeTask; block < end; block++)
                    blockAbsmax[block] = QuantizeBlock((float*)address, n, block, codes);
            });
        }

        // Math.Max propagates NaN, so a NaN or infinite weight leaves a non-finite block absmax.
        int bad = Array.FindIndex(blockAbsmax, a => !float.IsFinite(a));
        if (bad >= 0)
            throw new ArgumentException($"weights {bad * BlockSize}..{Math.Min(n, (bad + 1) * BlockSize) - 1} contain NaN or infinity; NF4 needs finite weights", nameof(weights));

        if (!doubleQuantize)
            return new Nf4Matrix(rows, cols, codes, blockAbsmax, null, null, 0f);
        var (quantized, secondLevel, offset) = QuantizeAbsmax(blockAbsmax);
        return new Nf4Matrix(rows, cols, codes, null, quantized, secondLevel, offset);
    }

    /// <summary>Wraps parts produced elsewhere (a bitsandbytes checkpoint or a fixture), double-quantized form.</summary>
    public static Nf4Matrix FromParts(int rows, int cols, ReadOnlySpan<byte> packedCodes, ReadOnlySpan<byte> quantizedAbsmax,
        ReadOnlySpan<float> secondLevelAbsmax, float absmaxOffset)
    {
        int n = CheckShape(rows, cols);
        int blocks = (n + BlockSize - 1) / BlockSize;
        CheckLength("packedCodes", packedCodes.Length, (n + 1) / 2, rows, cols);
        CheckLength("quantizedAbsmax", quantizedAbsmax.Length, blocks, rows, cols);
        CheckLength("secondLevelAbsmax", secondLevelAbsmax.Length, (blocks + AbsmaxBlockSize - 1) / AbsmaxBlockSize, rows, cols);
        return new Nf4Matrix(rows, cols, packedCodes.ToArray(), null, quantizedAbsmax.ToArray(), secondLevelAbsmax.ToArray(), absmaxOffset);
    }

    /// <summary>Wraps parts produced elsewhere, with plain fp32 absmax per block.</summary>
    public static Nf4Matrix FromParts(int rows, int cols, ReadOnlySpan<byte> packedCodes, ReadOnlySpan<float> absmax)
    {
        int n = CheckShape(rows, cols);
        CheckLength("packedCodes", packedCodes.Length, (n + 1) / 2, rows, cols);
        CheckLength("absmax", absmax.Length, (n + BlockSize - 1) / BlockSize, rows, cols);
        return new Nf4Matrix(rows, cols, packedCodes.ToArray(), absmax.ToArray(), null, null, 0f);
    }

    /// <summary>
    /// Writes rows [firstRow, firstRow + rowCount) as fp32 to the first rowCount·Cols floats of
    /// <paramref name="destination"/>. Thread-safe: callers parallelize over row ranges.
    /// </summary>
    public void DequantizeRows(int firstRow, int rowCount, Span<float> destination)
    {
        if ((uint)firstRow > (uint)Rows || (uint)rowCount > (uint)(Rows - firstRow))
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"rows {firstRow}..{firstRow + rowCount - 1} are outside a matrix of {Rows} rows");
        int count = rowCount * Cols;
        if (destination.Length < count)
            throw new ArgumentException($"{rowCount} rows of {Cols} need {count} floats, the destination holds {destination.Length}", nameof(destination));
        DequantizeRange(firstRow * Cols, count, destination, Avx2.IsSupported);
    }

    /// <summary>Dequantizes flat elements [start, start + count); <paramref name="vectorized"/> picks the AVX2 or the scalar path.</summary>
    internal unsafe void DequantizeRange(int start, int count, Span<float> destination, bool vectorized)
    {
        vectorized &= Avx2.IsSupported;
        ReadOnlySpan<float> code = Nf4.Code;
        fixed (byte* packed = packedCodes)
        fixed (float* output = destination)
        {
            float* y = output;
            int end = start + count;
            for (int i = start; i < end;)
            {
                int block = i / BlockSize;
                int blockEnd = Math.Min(end, (block + 1) * BlockSize);
                float scale = BlockAbsmax(block);

                if ((i & 1) != 0)
                    *y++ = code[packed[i++ >> 1] & 0x0F] * scale;
                if (vectorized && blockEnd - i >= 16)
                {
                    // code·scale is the same single rounding whether done here or per element below.
                    var lowHalf = CodeLowHalf * scale;
                    var highHalf = CodeHighHalf * scale;
                    for (; blockEnd - i >= 32; i += 32, y += 32)
                        Decode32(packed + (i >> 1), y, lowHalf, highHalf);
                    for (; blockEnd - i >= 16; i += 16, y += 16)
                        Decode16(packed + (i >> 1), y, lowHalf, highHalf);
                }
                for (; blockEnd - i >= 2; i += 2, y += 2)
                {
                    byte pair = packed[i >> 1];
                    y[0] = code[pair >> 4] * scale;
                    y[1] = code[pair & 0x0F] * scale;
                }
                if (i < blockEnd)
                    *y++ = code[packed[i++ >> 1] >> 4] * scale;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Decode32(byte* packed, float* y, Vector256<float> lowHalf, Vector256<float> highHalf)
    {
        var (high, low) = SplitNibbles(Vector128.Load(packed));
        Decode16(Sse2.UnpackLow(high, low), y, lowHalf, highHalf);
        Decode16(Sse2.UnpackHigh(high, low), y + 16, lowHalf, highHalf);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Decode16(byte* packed, float* y, Vector256<float> lowHalf, Vector256<float> highHalf)
    {
        var (high, low) = SplitNibbles(Vector128.CreateScalarUnsafe(*(ulong*)packed).AsByte());
        Decode16(Sse2.UnpackLow(high, low), y, lowHalf, highHalf);
    }

    /// <summary>16 codes in element order (high nibble first, as packed) to 16 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Decode16(Vector128<byte> codes, float* y, Vector256<float> lowHalf, Vector256<float> highHalf)
    {
        Lookup(Avx2.ConvertToVector256Int32(codes), lowHalf, highHalf).Store(y);
        Lookup(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(codes, 8)), lowHalf, highHalf).Store(y + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<byte> High, Vector128<byte> Low) SplitNibbles(Vector128<byte> packed)
    {
        var nibble = Vector128.Create((byte)0x0F);
        return (Sse2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble, packed & nibble);
    }

    /// <summary>A 16-entry table lookup: vpermps reads the low 3 bits of each index, bit 3 (moved to the sign bit) picks the half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Lookup(Vector256<int> codes, Vector256<float> lowHalf, Vector256<float> highHalf) =>
        Avx.BlendVariable(Avx2.PermuteVar8x32(lowHalf, codes), Avx2.PermuteVar8x32(highHalf, codes), Avx2.ShiftLeftLogical(codes, 28).AsSingle());

    static unsafe float QuantizeBlock(float* weights, int n, int block, byte[] codes)
    {
        int start = block * BlockSize;
        int count = Math.Min(BlockSize, n - start);
        float* w = weights + start;
        float max = 0f;
        for (int i = 0; i < count; i++)
            max = Math.Max(max, Math.Abs(w[i]));

        float reciprocal = 1f / max;
        fixed (byte* packed = &codes[start >> 1])
        {
            int done = 0;
            if (Avx2.IsSupported)
                for (; done + 32 <= count; done += 32)
                    Encode32(w + done, reciprocal, packed + (done >> 1));
            for (int i = done; i < count; i += 2)
            {
                // bitsandbytes pads a partial block with zeros, which matters for the last low nibble of an odd count.
                float second = i + 1 < count ? w[i + 1] : 0f;
                packed[i >> 1] = (byte)(Nf4.Encode(w[i] * reciprocal) << 4 | Nf4.Encode(second * reciprocal));
            }
        }
        return max;
    }

    /// <summary>32 weights to 16 packed bytes: each code counts the thresholds below w·(1/absmax), as <see cref="Nf4.Encode"/>.</summary>
    static unsafe void Encode32(float* w, float reciprocal, byte* packed)
    {
        var scale = Vector256.Create(reciprocal);
        var c0 = Count(Vector256.Load(w) * scale);
        var c1 = Count(Vector256.Load(w + 8) * scale);
        var c2 = Count(Vector256.Load(w + 16) * scale);
        var c3 = Count(Vector256.Load(w + 24) * scale);
        var codes = Vector256.Narrow(Vector256.Narrow(c0, c1), Vector256.Narrow(c2, c3)).AsUInt16(); // element order kept
        // each 16-bit lane holds (even code, odd code) as (low byte, high byte); the packed byte is even << 4 | odd.
        var pairs = (Vector256.ShiftLeft(codes, 4) | Vector256.ShiftRightLogical(codes, 8)) & Vector256.Create((ushort)0xFF);
        Vector256.Narrow(pairs, pairs).GetLower().Store(packed);

        static Vector256<uint> Count(Vector256<float> scaled)
        {
            var below = Vector256<int>.Zero;
            foreach (float threshold in Nf4.DecisionThresholds)
                below -= Vector256.GreaterThan(scaled, Vector256.Create(threshold)).AsInt32();
            return below.AsUInt32();
        }
    }

    static (byte[] Quantized, float[] SecondLevel, float Offset) QuantizeAbsmax(float[] blockAbsmax)
    {
        // torch's absmax.mean() sums in float32 in a device-dependent order; a float64 sum is the order-free
        // value it approximates (the two can differ in the last bit).
        double sum = 0;
        foreach (float a in blockAbsmax)
            sum += a;
        float offset = (float)(sum / blockAbsmax.Length);

        var quantized = new byte[blockAbsmax.Length];
        var secondLevel = new float[(blockAbsmax.Length + AbsmaxBlockSize - 1) / AbsmaxBlockSize];
        Parallel.For(0, secondLevel.Length, group =>
        {
            int start = group * AbsmaxBlockSize;
            int end = Math.Min(blockAbsmax.Length, start + AbsmaxBlockSize);
            float max = 0f;
            for (int b = start; b < end; b++)
                max = Math.Max(max, Math.Abs(blockAbsmax[b] - offset));
            float reciprocal = 1f / max;
            for (int b = start; b < end; b++)
                quantized[b] = (byte)DynamicMap.Encode((blockAbsmax[b] - offset) * reciprocal);
            secondLevel[group] = max;
        });
        return (quantized, secondLevel, offset);
    }

    static int CheckShape(int rows, int cols)
    {
        if (rows <= 0 || cols <= 0)
            throw new ArgumentOutOfRangeException(rows <= 0 ? nameof(rows) : nameof(cols), $"an NF4 matrix needs positive dimensions, got {rows}x{cols}");
        long n = (long)rows * cols;
        if (n > Array.MaxLength)
            throw new ArgumentException($"a {rows}x{cols} matrix has {n} weights, more than one array can hold");
        return (int)n;
    }

    static void CheckLength(string part, int actual, int expected, int rows, int cols)
    {
        if (actual != expected)
            throw new ArgumentException($"{part} of a {rows}x{cols} NF4 matrix must hold {expected} entries, got {actual}", part);
    }
}
