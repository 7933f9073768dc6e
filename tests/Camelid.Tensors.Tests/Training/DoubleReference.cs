using Camelid.Tensors.Training;

namespace Camelid.Tensors.Tests.Training;

/// <summary>
/// Naive double-precision twins of the training kernels' forward ops, written from the formulas alone:
/// the oracles of the forward checks and the functions the gradient checks differentiate numerically.
/// </summary>
static class DoubleReference
{
    /// <summary>y (T, out) = x (T, in) · Wᵀ with W (out, in).</summary>
    public static double[] Linear(double[] x, double[] w, int T, int inFeatures, int outFeatures)
    {
        var y = new double[T * outFeatures];
        for (int t = 0; t < T; t++)
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = 0;
                for (int i = 0; i < inFeatures; i++)
                    sum += x[t * inFeatures + i] * w[o * inFeatures + i];
                y[t * outFeatures + o] = sum;
            }
        return y;
    }

    /// <summary>y (T, dim) = x / √(mean(x²) + ε) ⊙ g per row, and the per-row 1/rms (T).</summary>
    public static (double[] Y, double[] Rstd) RmsNorm(double[] x, double[] g, int T, int dim, double eps)
    {
        var y = new double[T * dim];
        var rstd = new double[T];
        for (int t = 0; t < T; t++)
        {
            double squares = 0;
            for (int i = 0; i < dim; i++)
                squares += x[t * dim + i] * x[t * dim + i];
            double r = 1 / Math.Sqrt(squares / dim + eps);
            rstd[t] = r;
            for (int i = 0; i < dim; i++)
                y[t * dim + i] = x[t * dim + i] * r * g[i];
        }
        return (y, rstd);
    }

    /// <summary>h = gate·σ(gate)·up elementwise.</summary>
    public static double[] SwiGlu(double[] gate, double[] up)
    {
        var h = new double[gate.Length];
        for (int i = 0; i < h.Length; i++)
            h[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
        return h;
    }

    /// <summary>
    /// Each head's pair (2i, 2i+1) of row r, read as the complex number x₀ + i·x₁, multiplied by
    /// cos + i·sin of the angle for position r mod length; cos and sin are (length, headSize/2).
    /// </summary>
    public static double[] Rotary(double[] x, int rows, int length, int heads, int headSize, double[] cos, double[] sin)
    {
        int half = headSize / 2, width = heads * headSize;
        var y = new double[x.Length];
        for (int row = 0; row < rows; row++)
        {
            int position = row % length;
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++)
                {
                    int at = row * width + h * headSize + 2 * i;
                    double c = cos[position * half + i], s = sin[position * half + i];
                    y[at] = x[at] * c - x[at + 1] * s;
                    y[at + 1] = x[at] * s + x[at + 1] * c;
                }
        }
        return y;
    }

    /// <summary>LLaMA's rotary frequencies θᵢ = base^(−2i/headSize) for i in [0, headSize/2).</summary>
    public static double[] RotaryFrequencies(int headSize, double theta = 10000) =>
        Enumerable.Range(0, headSize / 2).Select(i => Math.Pow(theta, -2.0 * i / headSize)).ToArray();

    /// <summary>
    /// Causal softmax attention per sequence and query head h, reading kv head h / (heads / kvHeads);
    /// also returns each score row's log-sum-exp (batch, heads, length).
    /// </summary>
    public static (double[] O, double[] Lse) Attention(double[] q, double[] k, double[] v, Differentiable.AttentionShape s)
    {
        int hs = s.HeadSize, qw = s.QueryWidth, kw = s.KvWidth;
        double scale = 1 / Math.Sqrt(hs);
        var o = new double[s.Rows * qw];
        var lse = new double[s.Batch * s.Heads * s.Length];
        var scores = new double[s.Length];
        for (int b = 0; b < s.Batch; b++)
            for (int h = 0; h < s.Heads; h++)
            {
                int kvh = h / (s.Heads / s.KvHeads);
                for (int t = 0; t < s.Length; t++)
                {
                    int queryAt = (b * s.Length + t) * qw + h * hs;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= t; j++)
                    {
                        int keyAt = (b * s.Length + j) * kw + kvh * hs;
                        double dot = 0;
                        for (int d = 0; d < hs; d++)
                            dot += q[queryAt + d] * k[keyAt + d];
                        scores[j] = dot * scale;
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++)
                        sum += Math.Exp(scores[j] - max);
                    for (int j = 0; j <= t; j++)
                    {
                        double p = Math.Exp(scores[j] - max) / sum;
                        int valueAt = (b * s.Length + j) * kw + kvh * hs;
                        for (int d = 0; d < hs; d++)
                            o[queryAt + d] += p * v[valueAt + d];
                    }
                    lse[(b * s.Heads + h) * s.Length + t] = max + Math.Log(sum);
                }
            }
        return (o, lse);
    }

    /// <summary>x (T, dim): row t is row tokens[t] of the table (vocab, dim).</summary>
    public static double[] Embedding(int[] tokens, double[] table, int dim)
    {
        var x = new double[tokens.Length * dim];
        for (int t = 0; t < tokens.Length; t++)
            Array.Copy(table, tokens[t] * dim, x, t * dim, dim);
        return x;
    }

    /// <summary>Per row of logits (rows, vocab): log Σ exp(logits) − logits[target], or 0 where the target is negative.</summary>
    public static double[] CrossEntropyLosses(double[] logits, int[] targets, int vocab)
    {
        var losses = new double[targets.Length];
        for (int t = 0; t < targets.Length; t++)
        {
            if (targets[t] < 0)
                continue;
            var row = logits.AsSpan(t * vocab, vocab);
            double max = double.NegativeInfinity;
            foreach (double z in row)
                max = Math.Max(max, z);
            double sum = 0;
            foreach (double z in row)
                sum += Math.Exp(z - max);
            losses[t] = max + Math.Log(sum) - row[targets[t]];
        }
        return losses;
    }

    /// <summary>c (m, n) = a (m, k) · b (k, n), a and b read with their leading strides, c dense.</summary>
    public static double[] Product(float[] a, int lda, float[] b, int ldb, int m, int n, int k)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
            {
                double aip = a[i * lda + p];
                for (int j = 0; j < n; j++)
                    c[i * n + j] += aip * b[p * ldb + j];
            }
        return c;
    }

    /// <summary>
    /// One step t (from 1) of torch.optim.AdamW as its documentation and single-tensor code write it:
    /// p ← p(1 − lr·λ); m ← β1·m + (1−β1)g; v ← β2·v + (1−β2)g²; p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
    /// </summary>
    public static void AdamWStep(double[] p, double[] g, double[] m, double[] v,
        double lr, double beta1, double beta2, double eps, double weightDecay, int step)
    {
        double stepSize = lr / (1 - Math.Pow(beta1, step));
        double correction2 = Math.Sqrt(1 - Math.Pow(beta2, step));
        for (int i = 0; i < p.Length; i++)
        {
            p[i] *= 1 - lr * weightDecay;
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            p[i] -= stepSize * m[i] / (Math.Sqrt(v[i]) / correction2 + eps);
        }
    }
}
