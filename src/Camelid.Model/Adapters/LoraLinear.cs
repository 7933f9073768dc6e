using System.Numerics.Tensors;
using Camelid.Tensors.Threading;

namespace Camelid.Model.Adapters;

/// <summary>
/// A loaded matrix with LoRA adapters applied on the fly: y = x·Wᵀ + Σ sᵢ·(x·Aᵢᵀ)·Bᵢᵀ. The base weight (quantized or
/// not) is read as it is and never changed, so one base serves several adapters, and unmerged results equal a merged
/// f32 model's up to rounding.
/// </summary>
public sealed class LoraLinear : Linear
{
    readonly Linear _base;
    readonly (int Rank, float[] A, float[] BTransposed, float Scale)[] _adapters; // Bᵀ (r, out): one axpy per rank

    public LoraLinear(Linear frozenBase, IEnumerable<(LoraMatrix Matrix, float Scale)> adapters) : base(frozenBase.Tensor)
    {
        _base = frozenBase;
        _adapters = adapters.Select(a =>
        {
            var m = a.Matrix;
            if (m.InFeatures != frozenBase.InFeatures || m.OutFeatures != frozenBase.OutFeatures)
                throw new ArgumentException($"{frozenBase.Name}: adapter ({m.OutFeatures}, {m.InFeatures}) does not fit ({frozenBase.OutFeatures}, {frozenBase.InFeatures})");
            var bt = new float[m.Rank * m.OutFeatures];
            for (int o = 0; o < m.OutFeatures; o++)
                for (int j = 0; j < m.Rank; j++)
                    bt[j * m.OutFeatures + o] = m.B[o * m.Rank + j];
            return (m.Rank, m.A, bt, m.Scale * a.Scale);
        }).ToArray();
    }

    public Linear Base => _base;
    public int AdapterCount => _adapters.Length;

    /// <summary>The low-rank term is computed token by token, so only the base decides.</summary>
    public override bool TokensIndependent => _base.TokensIndependent;

    public override void Forward(ReadOnlySpan<float> x, Span<float> y, int tokens, ComputePool pool, bool independentTokens = false)
    {
        _base.Forward(x, y, tokens, pool, independentTokens);
        int input = InFeatures, output = OutFeatures;
        foreach (var (rank, a, bt, scale) in _adapters)
            for (int t = 0; t < tokens; t++)
            {
                var row = x.Slice(t * input, input);
                var target = y.Slice(t * output, output);
                for (int j = 0; j < rank; j++)
                {
                    float u = scale * TensorPrimitives.Dot(a.AsSpan(j * input, input), row);
                    TensorPrimitives.MultiplyAdd(bt.AsSpan(j * output, output), u, target, target);
                }
            }
    }
}
