using Camelid.Tensors.Kernels;
using Camelid.Tensors.Quant;

namespace Camelid.Tensors.Reference;

/// <summary>Naive twin of <see cref="MatMul"/>: every weight row dequantized to fp32 with
/// <see cref="Dequantizer"/> and dotted in double with the unquantized activations. The fast path
/// quantizes the activations, so comparisons need a tolerance set by the activation quantization error.</summary>
public static class ReferenceMatMul
{
    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int tokens)
    {
        var row = new float[w.Cols];
        for (int r = 0; r < w.Rows; r++)
        {
            Dequantizer.DequantizeRow(w.Type, w.Row(r), row);
            for (int t = 0; t < tokens; t++)
            {
                double s = 0;
                for (int c = 0; c < w.Cols; c++)
                    s += (double)row[c] * x[t * w.Cols + c];
                y[t * w.Rows + r] = (float)s;
            }
        }
    }
}
