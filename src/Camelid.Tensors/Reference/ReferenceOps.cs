namespace Camelid.Tensors.Reference;

/// <summary>Naive scalar twins of <see cref="Kernels.Ops"/>: one loop each, accumulation in double,
/// written to be obviously right rather than fast. Test oracles only.</summary>
public static class ReferenceOps
{
    public static void RmsNorm(Span<float> output, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps)
    {
        double ss = 0;
        for (int i = 0; i < x.Length; i++)
            ss += (double)x[i] * x[i];
        double scale = 1.0 / Math.Sqrt(ss / x.Length + eps);
        for (int i = 0; i < x.Length; i++)
            output[i] = (float)(weight[i] * (x[i] * scale));
    }

    public static void Softmax(Span<float> x)
    {
        if (x.Length == 0)
            return;
        float max = float.NegativeInfinity;
        bool anyNaN = false;
        foreach (float v in x)
        {
            if (float.IsNaN(v)) anyNaN = true;
            else if (v > max) max = v;
        }
        if (anyNaN)
        {
            x.Fill(float.NaN);
            return;
        }
        if (float.IsNegativeInfinity(max))
            throw new ArgumentException("all -inf");
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += Math.Exp((double)x[i] - max);
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(Math.Exp((double)x[i] - max) / sum);
    }

    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            double g = gate[i];
            gate[i] = (float)(g / (1 + Math.Exp(-g)) * up[i]);
        }
    }

    public static void RopeInterleaved(Span<float> x, int nHeads, int headSize, int position, ReadOnlySpan<float> invFreq)
    {
        for (int h = 0; h < nHeads; h++)
            for (int i = 0; i < headSize / 2; i++)
            {
                double angle = (double)(position * invFreq[i]); // the angle is formed in float, as in llama2.c
                double c = Math.Cos(angle), s = Math.Sin(angle);
                int j = h * headSize + 2 * i;
                double x0 = x[j], x1 = x[j + 1];
                x[j] = (float)(x0 * c - x1 * s);
                x[j + 1] = (float)(x0 * s + x1 * c);
            }
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
            s += (double)a[i] * b[i];
        return (float)s;
    }

    public static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] += y[i];
    }

    public static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        for (int i = 0; i < y.Length; i++)
            y[i] = (float)(y[i] + (double)a * x[i]);
    }

    public static void Scale(Span<float> x, float a)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] *= a;
    }

    /// <summary>First index of the largest non-NaN value, 0 if there is none.</summary>
    public static int Argmax(ReadOnlySpan<float> x)
    {
        int best = -1;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i])) continue;
            if (best < 0 || x[i] > x[best]) best = i;
        }
        return Math.Max(best, 0);
    }
}
