using System.Numerics.Tensors;
using Camelid.Training.Model;

namespace Camelid.Training.Optimization;

/// <summary>Global-norm gradient clipping, as <c>torch.nn.utils.clip_grad_norm_</c> does it.</summary>
public static class GradientClipping
{
    /// <summary>The L2 norm of all gradients together, accumulated in double.</summary>
    public static double GlobalNorm(IEnumerable<Parameter> parameters)
    {
        double sum = 0;
        foreach (var p in parameters)
            if (p.Gradient is { } g)
                for (int i = 0; i < g.Length; i += 1 << 16)
                    sum += TensorPrimitives.SumOfSquares(g.AsSpan(i, Math.Min(1 << 16, g.Length - i)));
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Scales every gradient by max_norm / (norm + 1e-6) when that is below 1 (torch's formula, epsilon
    /// included) and returns the norm before clipping. A non-finite norm is returned unchanged and nothing is scaled.
    /// </summary>
    public static double Clip(IEnumerable<Parameter> parameters, double maxNorm)
    {
        var list = parameters as IReadOnlyList<Parameter> ?? parameters.ToList();
        double norm = GlobalNorm(list);
        if (maxNorm <= 0 || !double.IsFinite(norm))
            return norm;
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
            foreach (var p in list)
                if (p.Gradient is { } g)
                    TensorPrimitives.Multiply(g, (float)coefficient, g);
        return norm;
    }
}
