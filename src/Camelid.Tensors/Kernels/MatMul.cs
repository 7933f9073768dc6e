using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// y (T, rows) = x (T, cols) · Wᵀ, i.e. y[t, r] = Σ_c W[r, c]·x[t, c], split over rows across the pool.
/// <list type="bullet">
/// <item>Quantized W, decode (up to <see cref="FusedMaxTokens"/> tokens, or independent tokens), and on AVX2-only
/// CPUs prefill too: the activations are quantized to int8 once per call (<see cref="QuantizedActivations"/>)
/// and <see cref="FusedDot"/> reads the weight blocks in place, unpacking each once for up to 8 tokens.</item>
/// <item>Quantized W, prefill with AVX-512 (or a type without AVX2 kernel): <see cref="Gemm"/> dequantizes
/// tiles and multiplies in fp32.</item>
/// <item>Elsewhere: each weight row is unpacked once (<see cref="WeightUnpacker"/>) and dotted in integers
/// (<see cref="QuantDot"/>) with every token.</item>
/// <item>F16/BF16 W: each row is widened to fp32 once, then dotted with every token.</item>
/// <item>F32 W: TensorPrimitives.Dot straight on the mapped rows.</item>
/// </list>
/// For T &gt; 1 rows are taken in tiles so a tile stays in cache while all tokens pass over it: the weights are
/// read from memory once per call.
/// Scratch is thread-static and pinned, so steady-state calls allocate nothing.
/// Scalar twin: <see cref="Reference.ReferenceMatMul"/>.
/// </summary>
public static unsafe class MatMul
{
    public const int PrefillTileRows = 8;

    /// <summary>Up to this many tokens the weights are read in place by <see cref="FusedDot"/> (decode);
    /// beyond, unpacking a tile once and reusing it for every token is cheaper.</summary>
    const int FusedMaxTokens = 4;

    [ThreadStatic] static QuantizedActivations? t_activations;
    [ThreadStatic] static FusedActivations[]? t_fused;
    [ThreadStatic] static InterleavedActivations[]? t_groups;
    [ThreadStatic] static byte[]? t_u;
    [ThreadStatic] static float[]? t_lanes, t_bias, t_rowsF32;

    /// <summary>Rows per tile when the AVX2 decode kernels run a prefill: a tile's rows stay in L2 while every
    /// group of 8 tokens passes over them, so each group's activations are read once per tile, not once per row.</summary>
    const int Avx2PrefillTileRows = 16;

    /// <summary>
    /// Whether a product of rows of <paramref name="cols"/> weights over <paramref name="tokens"/> tokens rounds the
    /// activations to int8 (the integer kernels, which decode always uses and prefill uses on AVX2-only CPUs) or keeps
    /// them in fp32 (the prefill GEMM on CPUs with AVX-512, and for weights the AVX2 kernels do not cover).
    /// </summary>
    public static bool QuantizesActivations(GgmlType weightType, int cols, int tokens, bool independentTokens = false) =>
        GgmlTypes.IsQuantized(weightType) && !UsesGemm(weightType, cols, tokens, independentTokens);

    /// <summary>
    /// Whether each token's row of y comes out bit-identical however many tokens share the call: true where even a
    /// long call runs the decode kernels (AVX2-only CPUs, for the types and row lengths they cover), false where it
    /// takes the GEMM, whose rounding differs from the decode kernels'.
    /// </summary>
    public static bool TokensAlwaysIndependent(GgmlType type, int cols) => UsesDecodeKernels(type, cols, int.MaxValue, independentTokens: false);

    static bool UsesGemm(GgmlType type, int cols, int tokens, bool independentTokens) =>
        !UsesDecodeKernels(type, cols, tokens, independentTokens) && Gemm.IsSupported;

    /// <summary>
    /// Decode steps and independent tokens always take the decode kernels. So does a prefill on AVX2-only CPUs
    /// for the types and row lengths their kernels cover: there the int8 products (vpmaddubsw, 32 per instruction)
    /// outrun the fp32 GEMM's FMAs (8 per instruction), ggml's choice as well; with AVX-512 the GEMM is faster.
    /// </summary>
    static bool UsesDecodeKernels(GgmlType type, int cols, int tokens, bool independentTokens) =>
        tokens <= FusedMaxTokens || independentTokens || (FusedDot.UsesAvx2 && FusedDot.IsSupportedAvx2(type, cols));

    /// <summary>
    /// x holds at least tokens·cols values and y at least tokens·rows; only those prefixes are used.
    /// With <paramref name="independentTokens"/>, every token's row is computed by the decode kernels exactly as
    /// if it were alone (while each weight row is still read from memory once for all tokens): a batch of
    /// unrelated sequences then gets bit-identical results whatever its size, which continuous batching needs.
    /// </summary>
    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int tokens, ComputePool pool, bool independentTokens = false)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if (x.Length < (long)tokens * w.Cols)
            throw new ArgumentException($"x holds {x.Length} values; {tokens} tokens × {w.Cols} columns need {(long)tokens * w.Cols}");
        if (y.Length < (long)tokens * w.Rows)
            throw new ArgumentException($"y holds {y.Length} values; {tokens} tokens × {w.Rows} rows need {(long)tokens * w.Rows}");
        if (tokens == 0 || w.Rows == 0)
            return;
        if (w.Cols == 0)
        {
            y[..(tokens * w.Rows)].Clear();
            return;
        }

        int tileRows = tokens == 1 ? 1 : PrefillTileRows;
        int tiles = (w.Rows + tileRows - 1) / tileRows;
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            bool decodeKernels = UsesDecodeKernels(w.Type, w.Cols, tokens, independentTokens);
            if (UsesGemm(w.Type, w.Cols, tokens, independentTokens))
            {
                Gemm.Multiply(in w, xp, yp, tokens, pool);
            }
            else if (w.Type == GgmlType.F32)
            {
                var body = new DenseBody { W = w, X = xp, Y = yp, Tokens = tokens, TileRows = tileRows };
                pool.For(tiles, ref body);
            }
            else if (w.Type is GgmlType.F16 or GgmlType.BF16 && decodeKernels)
            {
                var body = new HalfDecodeBody { W = w, X = xp, Y = yp, Tokens = tokens };
                pool.For(w.Rows, ref body);
            }
            else if (w.Type is GgmlType.F16 or GgmlType.BF16)
            {
                var body = new HalfBody { W = w, X = xp, Y = yp, Tokens = tokens, TileRows = tileRows };
                pool.For(tiles, ref body);
            }
            else if (decodeKernels && FusedDot.IsSupported(w.Type, w.Cols))
            {
                var act = t_activations ??= new QuantizedActivations();
                act.Quantize(w.Type, x, tokens, w.Cols);
                var body = new FusedBody { W = w, Y = yp, Tokens = tokens };
                if (FusedDot.UsesAvx2)
                    body.Groups = PrepareGroups(w.Type, act, tokens);
                else
                    body.Activations = PreparePerToken(w.Type, act, tokens);
                pool.For(w.Rows, ref body);
            }
            else if (QuantDot.HasIntegerDot(w.Type))
            {
                var act = t_activations ??= new QuantizedActivations();
                act.Quantize(w.Type, x, tokens, w.Cols);
                var body = new QuantizedBody
                {
                    W = w, Y = yp, Tokens = tokens, TileRows = tileRows, GroupSize = act.GroupSize,
                    Quants = act.Quants(0), LaneScales = act.LaneScales(0), GroupSums = act.GroupSums(0),
                };
                pool.For(tiles, ref body);
            }
            else
            {
                throw new NotSupportedException($"matrix multiplication with {w.Type} weights is not supported");
            }
        }
    }

    struct DenseBody : IParallelBody
    {
        public WeightMatrix W;
        public float* X, Y;
        public int Tokens, TileRows;

        public void Execute(int start, int end)
        {
            int rows = W.Rows, cols = W.Cols;
            for (int tile = start; tile < end; tile++)
            {
                int r0 = tile * TileRows, r1 = Math.Min(rows, r0 + TileRows);
                for (int t = 0; t < Tokens; t++)
                {
                    var xt = new ReadOnlySpan<float>(X + (long)t * cols, cols);
                    for (int r = r0; r < r1; r++)
                        Y[(long)t * rows + r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(W.Data + r * W.RowBytes, cols), xt);
                }
            }
        }
    }

    struct HalfBody : IParallelBody
    {
        public WeightMatrix W;
        public float* X, Y;
        public int Tokens, TileRows;

        public void Execute(int start, int end)
        {
            int rows = W.Rows, cols = W.Cols;
            float* tileF32 = PinnedScratch.Ensure(ref t_rowsF32, (long)TileRows * cols);
            for (int tile = start; tile < end; tile++)
            {
                int r0 = tile * TileRows, r1 = Math.Min(rows, r0 + TileRows);
                for (int r = r0; r < r1; r++)
                {
                    var dst = new Span<float>(tileF32 + (long)(r - r0) * cols, cols);
                    if (W.Type == GgmlType.F16)
                        HalfPrecision.HalfToSingle(new ReadOnlySpan<Half>(W.Data + r * W.RowBytes, cols), dst);
                    else
                        HalfPrecision.Bf16ToSingle(new ReadOnlySpan<ushort>(W.Data + r * W.RowBytes, cols), dst);
                }
                for (int t = 0; t < Tokens; t++)
                {
                    var xt = new ReadOnlySpan<float>(X + (long)t * cols, cols);
                    for (int r = r0; r < r1; r++)
                        Y[(long)t * rows + r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(tileF32 + (long)(r - r0) * cols, cols), xt);
                }
            }
        }
    }

    struct HalfDecodeBody : IParallelBody
    {
        public WeightMatrix W;
        public float* X, Y;
        public int Tokens;

        public void Execute(int start, int end)
        {
            int rows = W.Rows, cols = W.Cols;
            bool f16 = W.Type == GgmlType.F16;
            for (int r = start; r < end; r++)
            {
                var row = (ushort*)(W.Data + r * W.RowBytes);
                for (int t = 0; t < Tokens; t++)
                    Y[(long)t * rows + r] = f16 ? HalfDot.DotF16(row, X + (long)t * cols, cols) : HalfDot.DotBf16(row, X + (long)t * cols, cols);
            }
        }
    }

    static FusedActivations[] PreparePerToken(GgmlType type, QuantizedActivations act, int tokens)
    {
        var fused = Reserve(ref t_fused, tokens);
        for (int t = 0; t < tokens; t++)
            fused[t].Prepare(type, act, t);
        return fused;
    }

    /// <summary>The tokens in groups of up to <see cref="InterleavedActivations.MaxTokens"/>.</summary>
    static ArraySegment<InterleavedActivations> PrepareGroups(GgmlType type, QuantizedActivations act, int tokens)
    {
        int count = (tokens + InterleavedActivations.MaxTokens - 1) / InterleavedActivations.MaxTokens;
        var groups = Reserve(ref t_groups, count);
        for (int g = 0; g < count; g++)
        {
            int first = g * InterleavedActivations.MaxTokens;
            groups[g].Prepare(type, act, first, Math.Min(InterleavedActivations.MaxTokens, tokens - first));
        }
        return new ArraySegment<InterleavedActivations>(groups, 0, count);
    }

    /// <summary>The thread's array of at least <paramref name="count"/> scratch objects, grown and filled on first need.</summary>
    static T[] Reserve<T>(ref T[]? array, int count) where T : class, new()
    {
        array ??= [];
        if (array.Length < count)
            Array.Resize(ref array, count);
        for (int i = 0; i < count; i++)
            array[i] ??= new T();
        return array;
    }

    struct FusedBody : IParallelBody
    {
        public WeightMatrix W;
        public float* Y;
        public int Tokens;
        public FusedActivations[]? Activations;
        public ArraySegment<InterleavedActivations> Groups;

        public void Execute(int start, int end)
        {
            if (Groups.Count > 0)
            {
                ExecuteGroups(start, end);
                return;
            }
            int rows = W.Rows, cols = W.Cols;
            for (int r = start; r < end; r++)
            {
                byte* row = W.Data + r * W.RowBytes;
                // The 512-bit kernels take one token at a time (they are memory-bound anyway).
                for (int t = 0; t < Tokens; t++)
                    Y[(long)t * rows + r] = FusedDot.Dot(W.Type, row, Activations![t], cols);
            }
        }

        /// <summary>AVX2: rows in tiles, and every group of up to 8 tokens over each tile's rows.</summary>
        void ExecuteGroups(int start, int end)
        {
            int rows = W.Rows;
            for (int r0 = start; r0 < end; r0 += Avx2PrefillTileRows)
            {
                int r1 = Math.Min(end, r0 + Avx2PrefillTileRows);
                for (int g = 0; g < Groups.Count; g++)
                {
                    float* y = Y + (long)g * InterleavedActivations.MaxTokens * rows;
                    for (int r = r0; r < r1; r++)
                        FusedDot.DotInterleavedAvx2(W.Data + r * W.RowBytes, Groups[g], y + r, rows);
                }
            }
        }
    }

    struct QuantizedBody : IParallelBody
    {
        public WeightMatrix W;
        public float* Y;
        public int Tokens, TileRows, GroupSize;
        public sbyte* Quants;       // (T, cols)
        public float* LaneScales;   // (T, cols/4)
        public float* GroupSums;    // (T, cols/G)

        public void Execute(int start, int end)
        {
            int rows = W.Rows, cols = W.Cols, lanes = cols / 4, groups = cols / GroupSize;
            bool signedWeights = W.Type == GgmlType.Q8_0;
            byte* u = PinnedScratch.Ensure(ref t_u, (long)TileRows * cols);
            float* wLanes = PinnedScratch.Ensure(ref t_lanes, (long)TileRows * lanes);
            float* bias = PinnedScratch.Ensure(ref t_bias, (long)TileRows * groups);
            for (int tile = start; tile < end; tile++)
            {
                int r0 = tile * TileRows, r1 = Math.Min(rows, r0 + TileRows);
                for (int r = r0; r < r1; r++)
                {
                    int k = r - r0;
                    WeightUnpacker.Unpack(W.Type, W.Data + r * W.RowBytes, cols, u + (long)k * cols, wLanes + (long)k * lanes, bias + (long)k * groups);
                }
                for (int t = 0; t < Tokens; t++)
                {
                    sbyte* a = Quants + (long)t * cols;
                    float* aLanes = LaneScales + (long)t * lanes;
                    float* aSums = GroupSums + (long)t * groups;
                    for (int r = r0; r < r1; r++)
                    {
                        int k = r - r0;
                        Y[(long)t * rows + r] = QuantDot.DotRow(signedWeights, u + (long)k * cols, wLanes + (long)k * lanes,
                            bias + (long)k * groups, a, aLanes, aSums, cols, GroupSize);
                    }
                }
            }
        }
    }
}
