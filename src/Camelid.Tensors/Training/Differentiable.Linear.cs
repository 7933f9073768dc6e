using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Training;

/// <summary>
/// The training engine's kernels, in forward/backward pairs that take their arguments in the same order
/// (outputs, inputs and saved activations, dimensions). Backward methods accumulate (+=) into parameter
/// gradients, and into input gradients where noted, so residual branches and tied weights need no extra pass.
/// </summary>
public static unsafe partial class Differentiable
{
    [ThreadStatic] static float[]? t_transposedInput, t_transposedOutput;

    /// <summary>y (T, out) = x (T, in) · Wᵀ with W (out, in), computed as yᵀ = W·xᵀ so W is read in place.</summary>
    public static void LinearForward(Span<float> y, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int T, int inFeatures, int outFeatures, ComputePool pool)
    {
        CheckLinear(y.Length, x.Length, w.Length, T, inFeatures, outFeatures);
        float* xt = PinnedScratch.Ensure(ref t_transposedInput, (long)inFeatures * T);
        float* yt = PinnedScratch.Ensure(ref t_transposedOutput, (long)outFeatures * T);
        fixed (float* xp = x, yp = y, wp = w)
        {
            Transposition.Transpose(xp, xt, T, inFeatures, pool);
            DenseGemm.Multiply(wp, inFeatures, xt, T, yt, T, outFeatures, T, inFeatures, accumulate: false, pool);
            Transposition.Transpose(yt, yp, outFeatures, T, pool);
        }
    }

    /// <summary>
    /// dx (T, in) = dy · W, or += when <paramref name="accumulateInput"/> (several projections of one input);
    /// dW (out, in) += dyᵀ · x, skipped when <paramref name="dw"/> is empty (a frozen weight).
    /// </summary>
    public static void LinearBackward(Span<float> dx, Span<float> dw, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        int T, int inFeatures, int outFeatures, ComputePool pool, bool accumulateInput = false)
    {
        CheckLinear(dy.Length, x.Length, w.Length, T, inFeatures, outFeatures);
        if (dx.Length < (long)T * inFeatures)
            throw new ArgumentException($"dx holds {dx.Length} values; {T}×{inFeatures} are needed");
        if (!dw.IsEmpty && dw.Length != w.Length)
            throw new ArgumentException($"dW holds {dw.Length} values, W {w.Length}");
        fixed (float* dxp = dx, dwp = dw, dyp = dy, xp = x, wp = w)
        {
            DenseGemm.Multiply(dyp, outFeatures, wp, inFeatures, dxp, inFeatures, T, inFeatures, outFeatures, accumulateInput, pool);
            if (dw.IsEmpty)
                return;
            float* dyt = PinnedScratch.Ensure(ref t_transposedOutput, (long)outFeatures * T);
            Transposition.Transpose(dyp, dyt, T, outFeatures, pool);
            DenseGemm.Multiply(dyt, T, xp, inFeatures, dwp, inFeatures, outFeatures, inFeatures, T, accumulate: true, pool);
        }
    }

    static void CheckLinear(long yLength, long xLength, long wLength, int T, int inFeatures, int outFeatures)
    {
        if (wLength != (long)inFeatures * outFeatures)
            throw new ArgumentException($"W holds {wLength} values, not {outFeatures}×{inFeatures}");
        if (xLength < (long)T * inFeatures)
            throw new ArgumentException($"x holds {xLength} values; {T}×{inFeatures} are needed");
        if (yLength < (long)T * outFeatures)
            throw new ArgumentException($"y holds {yLength} values; {T}×{outFeatures} are needed");
    }
}
