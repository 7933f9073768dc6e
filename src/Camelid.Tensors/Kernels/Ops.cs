using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// Vector kernels of the transformer forward pass. Each has a scalar twin in
/// <see cref="Reference.ReferenceOps"/> that the tests compare against for every length 0..257.
/// </summary>
public static class Ops
{
    /// <summary>output = weight ⊙ x / sqrt(mean(x²) + eps) (LLaMA RMSNorm; llama2.c <c>rmsnorm</c>).</summary>
    public static void RmsNorm(Span<float> output, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps)
    {
        CheckLengths(output.Length, x.Length, nameof(x));
        CheckLengths(output.Length, weight.Length, nameof(weight));
        if (x.Length == 0)
            return;
        float meanSquare = TensorPrimitives.SumOfSquares(x) / x.Length;
        float scale = 1f / MathF.Sqrt(meanSquare + eps);
        TensorPrimitives.Multiply(x, scale, output);
        TensorPrimitives.Multiply(output, weight, output);
    }

    /// <summary>In-place softmax, numerically safe: the max is subtracted before exp, so large logits do not
    /// overflow. -inf entries become 0. A NaN anywhere makes every output NaN.</summary>
    /// <exception cref="ArgumentException">every entry is -inf (no distribution exists).</exception>
    public static void Softmax(Span<float> x)
    {
        if (x.Length == 0)
            return;
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max))
            throw new ArgumentException("softmax of a vector whose entries are all -inf is undefined (everything is masked)", nameof(x));
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Multiply(x, 1f / sum, x);
    }

    /// <summary>gate[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g) (the LLaMA FFN's SwiGLU).</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        CheckLengths(gate.Length, up.Length, nameof(up));
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= gate.Length; i += 16)
            {
                var g = Vector512.Create(gate.Slice(i, 16));
                var s = g / (Vector512<float>.One + Vector512.Exp(-g));
                (s * Vector512.Create(up.Slice(i, 16))).CopyTo(gate[i..]);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= gate.Length; i += 8)
            {
                var g = Vector256.Create(gate.Slice(i, 8));
                var s = g / (Vector256<float>.One + Vector256.Exp(-g));
                (s * Vector256.Create(up.Slice(i, 8))).CopyTo(gate[i..]);
            }
        }
        for (; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }

    /// <summary>
    /// Rotary position embedding, interleaved pairs (Meta LLaMA / GGUF / llama2.c convention): in each of the
    /// <paramref name="nHeads"/> heads of x (nHeads, headSize), the pair (x[2i], x[2i+1]) is rotated by the
    /// angle position·invFreq[i], for i &lt; headSize/2.
    /// </summary>
    public static void RopeInterleaved(Span<float> x, int nHeads, int headSize, int position, ReadOnlySpan<float> invFreq)
    {
        CheckRope(x.Length, nHeads, headSize, invFreq.Length);
        int half = headSize / 2;
        Span<float> cos = half <= 512 ? stackalloc float[half] : new float[half];
        Span<float> sin = half <= 512 ? stackalloc float[half] : new float[half];
        for (int i = 0; i < half; i++)
        {
            float angle = position * invFreq[i];
            (sin[i], cos[i]) = MathF.SinCos(angle);
        }
        for (int h = 0; h < nHeads; h++)
        {
            var head = x.Slice(h * headSize, headSize);
            for (int i = 0; i < half; i++)
            {
                float x0 = head[2 * i], x1 = head[2 * i + 1];
                head[2 * i] = x0 * cos[i] - x1 * sin[i];
                head[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    internal static void CheckRope(int length, int nHeads, int headSize, int invFreqLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nHeads);
        if (headSize < 0 || headSize % 2 != 0)
            throw new ArgumentException($"head size must be even and non-negative, got {headSize}");
        if ((long)nHeads * headSize > length)
            throw new ArgumentException($"x holds {length} values, {nHeads} heads of {headSize} need {(long)nHeads * headSize}");
        if (invFreqLength < headSize / 2)
            throw new ArgumentException($"invFreq holds {invFreqLength} values, head size {headSize} needs {headSize / 2}");
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckLengths(a.Length, b.Length, nameof(b));
        return TensorPrimitives.Dot(a, b);
    }

    /// <summary>x += y</summary>
    public static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        CheckLengths(x.Length, y.Length, nameof(y));
        TensorPrimitives.Add(x, y, x);
    }

    /// <summary>y += a·x</summary>
    public static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        CheckLengths(y.Length, x.Length, nameof(x));
        TensorPrimitives.MultiplyAdd(x, a, y, y);
    }

    /// <summary>x *= a</summary>
    public static void Scale(Span<float> x, float a) => TensorPrimitives.Multiply(x, a, x);

    /// <summary>Index of the first largest value; NaN entries are skipped. Returns 0 if every entry is NaN.</summary>
    public static int Argmax(ReadOnlySpan<float> x)
    {
        if (x.Length == 0)
            throw new ArgumentException("argmax of an empty vector", nameof(x));
        // Pass 1: the largest non-NaN value. A comparison with NaN is false, so NaN lanes never win.
        float best = float.NegativeInfinity;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && x.Length >= 16)
        {
            var vbest = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= x.Length; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                vbest = Vector512.ConditionalSelect(Vector512.GreaterThan(v, vbest), v, vbest);
            }
            for (int k = 0; k < 16; k++)
                if (vbest[k] > best) best = vbest[k];
        }
        for (; i < x.Length; i++)
            if (x[i] > best) best = x[i];
        // Pass 2: its first position (-0 and +0 count as equal, as for a scalar >).
        for (i = 0; i < x.Length; i++)
            if (x[i] == best)
                return i;
        return 0; // all NaN
    }

    static void CheckLengths(int expected, int actual, string name)
    {
        if (expected != actual)
            throw new ArgumentException($"{name} has {actual} values, expected {expected}", name);
    }
}
