namespace Camelid.Tensors.Reference;

/// <summary>Scalar twin of <see cref="Quant.QuantDot"/>'s lane kernel: the same integer products and
/// per-lane scales, summed in double.</summary>
public static unsafe class ReferenceQuantDot
{
    public static double DotLanes(bool signedWeights, byte* u, sbyte* a, float* wLanes, float* aLanes, int n)
    {
        double sum = 0;
        for (int k = 0; k < n / 4; k++)
        {
            long lane = 0;
            for (int j = 0; j < 4; j++)
            {
                int w = signedWeights ? (sbyte)u[4 * k + j] : u[4 * k + j];
                lane += w * a[4 * k + j];
            }
            sum += lane * ((double)wLanes[k] * aLanes[k]);
        }
        return sum;
    }
}
