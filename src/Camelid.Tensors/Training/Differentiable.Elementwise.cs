using System.Numerics.Tensors;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Training;

public static partial class Differentiable
{
    [ThreadStatic] static float[]? t_row;

    static Span<float> RowScratch(int length)
    {
        if (t_row == null || t_row.Length < length)
            t_row = new float[length];
        return t_row.AsSpan(0, length);
    }

    /// <summary>y = x / rms(x) ⊙ g per row; saves 1/rms per row in <paramref name="rstd"/> (T) for the backward pass.</summary>
    public static void RmsNormForward(Span<float> y, Span<float> rstd, ReadOnlySpan<float> x, ReadOnlySpan<float> g, int T, int dim, float eps)
    {
        for (int t = 0; t < T; t++)
        {
            var row = x.Slice(t * dim, dim);
            float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / dim + eps);
            rstd[t] = r;
            var output = y.Slice(t * dim, dim);
            TensorPrimitives.Multiply(row, r, output);
            TensorPrimitives.Multiply(output, g, output);
        }
    }

    /// <summary>
    /// dx += r·(dy⊙g) − x·r³·⟨dy⊙g, x⟩/dim and dg += Σ_t dy⊙x·r (the derivative of x·r(x)⊙g with
    /// r = (mean(x²)+ε)^-½). Accumulates into dx: the norm sits on a residual branch.
    /// </summary>
    public static void RmsNormBackward(Span<float> dx, Span<float> dg, ReadOnlySpan<float> dy, ReadOnlySpan<float> rstd, ReadOnlySpan<float> x, ReadOnlySpan<float> g, int T, int dim)
    {
        var scaled = RowScratch(dim);
        for (int t = 0; t < T; t++)
        {
            var row = x.Slice(t * dim, dim);
            var upstream = dy.Slice(t * dim, dim);
            float r = rstd[t];
            TensorPrimitives.Multiply(upstream, g, scaled);
            float projection = TensorPrimitives.Dot(scaled, row) * r * r * r / dim;
            var input = dx.Slice(t * dim, dim);
            TensorPrimitives.MultiplyAdd(scaled, r, input, input);
            TensorPrimitives.MultiplyAdd(row, -projection, input, input);
            if (!dg.IsEmpty)
            {
                TensorPrimitives.Multiply(upstream, row, scaled);
                TensorPrimitives.MultiplyAdd(scaled, r, dg, dg);
            }
        }
    }

    /// <summary>Elements per parallel chunk of the element-wise kernels (256 KiB of each operand).</summary>
    const int ElementChunk = 1 << 16;

    /// <summary>h = silu(gate) ⊙ up (the SwiGLU of LLaMA's feed-forward network), all (n), in chunks over the pool.</summary>
    public static unsafe void SwiGluForward(Span<float> h, ReadOnlySpan<float> gate, ReadOnlySpan<float> up, ComputePool? pool = null)
    {
        fixed (float* hp = h, gp = gate, upp = up)
        {
            var body = new SwiGluBody { H = hp, Gate = gp, Up = upp, Count = gate.Length };
            RunChunked(ref body, gate.Length, pool);
        }
    }

    /// <summary>dgate = dh⊙up⊙σ(g)(1 + g(1 − σ(g))), dup = dh⊙silu(g). Overwrites both.</summary>
    public static unsafe void SwiGluBackward(Span<float> dgate, Span<float> dup, ReadOnlySpan<float> dh, ReadOnlySpan<float> gate, ReadOnlySpan<float> up, ComputePool? pool = null)
    {
        fixed (float* dgp = dgate, dup_ = dup, dhp = dh, gp = gate, upp = up)
        {
            var body = new SwiGluBody { DGate = dgp, DUp = dup_, DH = dhp, Gate = gp, Up = upp, Count = gate.Length, Backward = true };
            RunChunked(ref body, gate.Length, pool);
        }
    }

    static void RunChunked<TBody>(ref TBody body, int count, ComputePool? pool) where TBody : struct, IParallelBody
    {
        int chunks = (count + ElementChunk - 1) / ElementChunk;
        if (pool == null || chunks <= 1)
            body.Execute(0, chunks);
        else
            pool.For(chunks, ref body);
    }

    unsafe struct SwiGluBody : IParallelBody
    {
        public float* H, DGate, DUp, DH, Gate, Up;
        public int Count;
        public bool Backward;

        public readonly void Execute(int start, int end)
        {
            for (int chunk = start; chunk < end; chunk++)
            {
                int first = chunk * ElementChunk, n = Math.Min(ElementChunk, Count - first);
                var gate = new ReadOnlySpan<float>(Gate + first, n);
                var up = new ReadOnlySpan<float>(Up + first, n);
                if (!Backward)
                {
                    var h = new Span<float>(H + first, n);
                    TensorPrimitives.Sigmoid(gate, h);
                    TensorPrimitives.Multiply(h, gate, h);
                    TensorPrimitives.Multiply(h, up, h);
                    continue;
                }
                var dgate = new Span<float>(DGate + first, n);
                var dup = new Span<float>(DUp + first, n);
                var dh = new ReadOnlySpan<float>(DH + first, n);
                var sigmoid = dup; // σ(g) lives in dup until dgate is done with it
                TensorPrimitives.Sigmoid(gate, sigmoid);
                TensorPrimitives.Subtract(1f, sigmoid, dgate);
                TensorPrimitives.MultiplyAdd(gate, dgate, 1f, dgate);
                TensorPrimitives.Multiply(dgate, sigmoid, dgate);
                TensorPrimitives.Multiply(dgate, up, dgate);
                TensorPrimitives.Multiply(dgate, dh, dgate);
                TensorPrimitives.Multiply(sigmoid, gate, dup);
                TensorPrimitives.Multiply(dup, dh, dup);
            }
        }
    }

    /// <summary>
    /// Rotary position embedding in Meta's interleaved-pair layout, in place: rows are positions 0..length-1
    /// of consecutive sequences; pair (2i, 2i+1) of each head turns by position·θ_i. <paramref name="cos"/>
    /// and <paramref name="sin"/> are (length, headSize/2) tables (<see cref="RotaryTable"/>).
    /// </summary>
    public static void RotaryForward(Span<float> x, int rows, int length, int heads, int headSize, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin) =>
        Rotate(x, rows, length, heads, headSize, cos, sin, direction: 1f);

    /// <summary>The gradient of a rotation is the inverse rotation, in place on dx.</summary>
    public static void RotaryBackward(Span<float> dx, int rows, int length, int heads, int headSize, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin) =>
        Rotate(dx, rows, length, heads, headSize, cos, sin, direction: -1f);

    static void Rotate(Span<float> x, int rows, int length, int heads, int headSize, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, float direction)
    {
        int half = headSize / 2, width = heads * headSize;
        if (cos.Length < length * half || sin.Length < length * half)
            throw new ArgumentException($"rotary tables hold {cos.Length} values; {length} positions × {half} are needed");
        for (int row = 0; row < rows; row++)
        {
            int position = row % length;
            var c = cos.Slice(position * half, half);
            var s = sin.Slice(position * half, half);
            var line = x.Slice(row * width, width);
            for (int h = 0; h < heads; h++)
            {
                var head = line.Slice(h * headSize, headSize);
                for (int i = 0; i < half; i++)
                {
                    float x0 = head[2 * i], x1 = head[2 * i + 1], si = direction * s[i];
                    head[2 * i] = x0 * c[i] - x1 * si;
                    head[2 * i + 1] = x0 * si + x1 * c[i];
                }
            }
        }
    }

    /// <summary>cos and sin of position·θ_i for positions [0, length) and θ_i = <paramref name="inverseFrequencies"/>[i], in double before rounding.</summary>
    public static (float[] Cos, float[] Sin) RotaryTable(int length, ReadOnlySpan<float> inverseFrequencies)
    {
        int half = inverseFrequencies.Length;
        var cos = new float[length * half];
        var sin = new float[length * half];
        for (int p = 0; p < length; p++)
            for (int i = 0; i < half; i++)
            {
                double angle = p * (double)inverseFrequencies[i];
                cos[p * half + i] = (float)Math.Cos(angle);
                sin[p * half + i] = (float)Math.Sin(angle);
            }
        return (cos, sin);
    }

    /// <summary>x[t] = E[token t] for (T) tokens into (T, dim).</summary>
    public static void EmbeddingForward(Span<float> x, ReadOnlySpan<int> tokens, ReadOnlySpan<float> table, int dim)
    {
        int vocab = table.Length / dim;
        for (int t = 0; t < tokens.Length; t++)
        {
            if ((uint)tokens[t] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {tokens[t]} is outside the vocabulary (0..{vocab - 1})");
            table.Slice(tokens[t] * dim, dim).CopyTo(x.Slice(t * dim, dim));
        }
    }

    /// <summary>dE[token t] += dx[t].</summary>
    public static void EmbeddingBackward(Span<float> dtable, ReadOnlySpan<int> tokens, ReadOnlySpan<float> dx, int dim)
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            var row = dtable.Slice(tokens[t] * dim, dim);
            TensorPrimitives.Add(row, dx.Slice(t * dim, dim), row);
        }
    }

    /// <summary>
    /// Softmax cross-entropy per row of logits (rows, vocab) against <paramref name="targets"/> (rows; negative =
    /// no loss). Overwrites the logits with dLoss/dlogits = (softmax − onehot)·<paramref name="scale"/> (zero on
    /// ignored rows) and returns the sum of the rows' losses, in double. Rows are split over the pool.
    /// </summary>
    public static unsafe double CrossEntropyForwardBackward(Span<float> logits, ReadOnlySpan<int> targets, int vocab, float scale, ComputePool? pool = null)
    {
        int rows = targets.Length;
        if (logits.Length < (long)rows * vocab)
            throw new ArgumentException($"logits hold {logits.Length} values; {rows} rows × {vocab} are needed");
        foreach (int target in targets)
            if (target >= vocab)
                throw new ArgumentOutOfRangeException(nameof(targets), $"target id {target} is outside the vocabulary (0..{vocab - 1})");
        var losses = new double[rows];
        fixed (float* lp = logits)
        fixed (int* tp = targets)
        fixed (double* sp = losses)
        {
            var body = new CrossEntropyBody { Logits = lp, Targets = tp, Losses = sp, Vocab = vocab, Scale = scale };
            if (pool == null)
                body.Execute(0, rows);
            else
                pool.For(rows, ref body);
        }
        double total = 0;
        foreach (double loss in losses)
            total += loss;
        return total;
    }

    unsafe struct CrossEntropyBody : IParallelBody
    {
        public float* Logits;
        public int* Targets;
        public double* Losses;
        public int Vocab;
        public float Scale;

        public readonly void Execute(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                var row = new Span<float>(Logits + (long)t * Vocab, Vocab);
                int target = Targets[t];
                if (target < 0)
                {
                    row.Clear();
                    continue;
                }
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, row);
                float shiftedTarget = row[target];
                TensorPrimitives.Exp(row, row);
                double sum = TensorPrimitives.Sum(row);
                Losses[t] = Math.Log(sum) - shiftedTarget;
                TensorPrimitives.Multiply(row, (float)(Scale / sum), row);
                row[target] -= Scale;
            }
        }
    }
}
