using System.Numerics;

namespace Camelid.Tensors.Training;

/// <summary>
/// One AdamW update of a parameter slice (Loshchilov &amp; Hutter 2019), with PyTorch's arithmetic so that
/// runs match <c>torch.optim.AdamW</c>: decay first (p ← p·(1 − lr·λ)), then
/// p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε) with m, v the running moments.
/// </summary>
public static class AdamWUpdate
{
    public readonly record struct Settings(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step)
    {
        public float StepSize => (float)(LearningRate / (1 - Math.Pow(Beta1, Step)));
        public float SecondMomentCorrection => (float)Math.Sqrt(1 - Math.Pow(Beta2, Step));
    }

    public static void Apply(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, in Settings s)
    {
        if (gradient.Length != parameter.Length || m.Length != parameter.Length || v.Length != parameter.Length)
            throw new ArgumentException("parameter, gradient and moments must have the same length");
        float decay = 1f - s.LearningRate * s.WeightDecay, stepSize = s.StepSize, correction2 = s.SecondMomentCorrection;
        float b1 = s.Beta1, b2 = s.Beta2, eps = s.Epsilon;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            var vDecay = new Vector<float>(decay);
            var vB1 = new Vector<float>(b1);
            var vB1c = new Vector<float>(1 - b1);
            var vB2 = new Vector<float>(b2);
            var vB2c = new Vector<float>(1 - b2);
            var vInvCorrection = new Vector<float>(1f / correction2);
            var vEps = new Vector<float>(eps);
            var vStep = new Vector<float>(stepSize);
            for (; i <= parameter.Length - width; i += width)
            {
                var g = new Vector<float>(gradient[i..]);
                var mi = vB1 * new Vector<float>(m[i..]) + vB1c * g;
                var vi = vB2 * new Vector<float>(v[i..]) + vB2c * g * g;
                var p = new Vector<float>(parameter[i..]) * vDecay;
                p -= vStep * mi / (Vector.SquareRoot(vi) * vInvCorrection + vEps);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                p.CopyTo(parameter[i..]);
            }
        }
        for (; i < parameter.Length; i++)
        {
            float g = gradient[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            parameter[i] = parameter[i] * decay - stepSize * m[i] / (MathF.Sqrt(v[i]) / correction2 + eps);
        }
    }
}
