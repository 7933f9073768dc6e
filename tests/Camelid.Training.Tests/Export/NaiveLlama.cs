using Camelid.Model;
using Camelid.Training.Model;

namespace Camelid.Training.Tests.Export;

/// <summary>
/// The LLaMA forward pass over <see cref="LlamaParameters"/> in float64, one token at a time, written from the paper
/// and Meta's model.py without any engine code: the oracle the exported-and-reloaded models are compared with.
/// RoPE rotates interleaved pairs (x[2i], x[2i+1]) by position·θ^(-2i/headSize) (divided by a linear scaling
/// factor); query head h reads KV head h / (heads / kvHeads).
/// </summary>
static class NaiveLlama
{
    /// <summary>Logits (T, vocab) for every position of <paramref name="tokens"/>.</summary>
    public static double[] Logits(LlamaParameters p, int[] tokens)
    {
        var c = p.Config;
        int hs = c.HeadSize, groups = c.Heads / c.KvHeads;
        double linear = c.RopeScaling is RopeScaling.Linear l ? l.Factor : 1.0;
        if (c.RopeScaling is not (null or RopeScaling.Linear))
            throw new NotSupportedException("the naive model applies linear RoPE scaling only");
        var keys = new List<double[]>[c.Layers];
        var values = new List<double[]>[c.Layers];
        for (int i = 0; i < c.Layers; i++)
            (keys[i], values[i]) = ([], []);
        var logits = new double[tokens.Length * c.VocabSize];

        for (int t = 0; t < tokens.Length; t++)
        {
            var x = Row(p.TokenEmbedding, tokens[t]);
            for (int layer = 0; layer < c.Layers; layer++)
            {
                var w = p.Layers[layer];
                var xn = RmsNorm(x, w.AttentionNorm, c.RmsNormEps);
                var q = MatVec(w.Wq, xn);
                var k = MatVec(w.Wk, xn);
                Rope(q, t, hs, c.RopeTheta, linear);
                Rope(k, t, hs, c.RopeTheta, linear);
                keys[layer].Add(k);
                values[layer].Add(MatVec(w.Wv, xn));

                var attention = new double[c.Dim];
                for (int h = 0; h < c.Heads; h++)
                {
                    int kv = h / groups;
                    var scores = new double[t + 1];
                    for (int s = 0; s <= t; s++)
                    {
                        double dot = 0;
                        for (int d = 0; d < hs; d++)
                            dot += q[h * hs + d] * keys[layer][s][kv * hs + d];
                        scores[s] = dot / Math.Sqrt(hs);
                    }
                    double max = scores.Max(), sum = 0;
                    for (int s = 0; s <= t; s++)
                        sum += scores[s] = Math.Exp(scores[s] - max);
                    for (int s = 0; s <= t; s++)
                        for (int d = 0; d < hs; d++)
                            attention[h * hs + d] += scores[s] / sum * values[layer][s][kv * hs + d];
                }
                Add(x, MatVec(w.Wo, attention));

                xn = RmsNorm(x, w.FfnNorm, c.RmsNormEps);
                var gate = MatVec(w.W1, xn);
                var up = MatVec(w.W3, xn);
                for (int j = 0; j < gate.Length; j++)
                    gate[j] = gate[j] / (1 + Math.Exp(-gate[j])) * up[j]; // SwiGLU: silu(W1·x) ⊙ W3·x
                Add(x, MatVec(w.W2, gate));
            }
            MatVec(p.OutputHead, RmsNorm(x, p.OutputNorm, c.RmsNormEps)).CopyTo(logits, t * c.VocabSize);
        }
        return logits;
    }

    static double[] Row(Parameter m, int row) => m.Value.AsSpan(row * m.Cols, m.Cols).ToArray().Select(v => (double)v).ToArray();

    static double[] MatVec(Parameter m, double[] x) // (rows, cols) · (cols) -> (rows)
    {
        var y = new double[m.Rows];
        for (int r = 0; r < m.Rows; r++)
        {
            double sum = 0;
            for (int col = 0; col < m.Cols; col++)
                sum += m.Value[r * m.Cols + col] * x[col];
            y[r] = sum;
        }
        return y;
    }

    static double[] RmsNorm(double[] x, Parameter gain, float eps)
    {
        double meanSquare = x.Sum(v => v * v) / x.Length;
        double scale = 1 / Math.Sqrt(meanSquare + eps);
        return x.Select((v, i) => v * scale * gain.Value[i]).ToArray();
    }

    static void Rope(double[] x, int position, int headSize, double theta, double linearFactor)
    {
        for (int head = 0; head < x.Length / headSize; head++)
            for (int i = 0; i < headSize / 2; i++)
            {
                double angle = position / linearFactor * Math.Pow(theta, -2.0 * i / headSize);
                int a = head * headSize + 2 * i;
                (x[a], x[a + 1]) = (x[a] * Math.Cos(angle) - x[a + 1] * Math.Sin(angle), x[a] * Math.Sin(angle) + x[a + 1] * Math.Cos(angle));
            }
    }

    static void Add(double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] += y[i];
    }
}
