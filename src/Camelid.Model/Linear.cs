using Camelid.Formats;
using Camelid.Tensors.Kernels;
using Camelid.Tensors.Threading;

namespace Camelid.Model;

/// <summary>
/// y = x·Wᵀ for every matrix of the model. Dense and quantized weights differ only in the weight's type;
/// adapters (LoRA) derive from this class and add their low-rank term, never writing the base weight.
/// </summary>
public class Linear
{
    readonly TensorEntry _tensor; // keeps the mapped or pinned storage alive

    public WeightMatrix Weight { get; }
    public int InFeatures => Weight.Cols;
    public int OutFeatures => Weight.Rows;
    public string Name => _tensor.Name;
    /// <summary>The stored tensor (for tools that read the weight in full: training, conversion).</summary>
    public TensorEntry Tensor => _tensor;

    public unsafe Linear(TensorEntry tensor)
    {
        if (tensor.Shape.Length != 2)
            throw new ModelFormatException($"tensor '{tensor.Name}' should be a matrix but has shape {TensorEntry.FormatShape(tensor.Shape)}");
        _tensor = tensor;
        Weight = new WeightMatrix(tensor.Pointer, tensor.Type, checked((int)tensor.Shape[0]), checked((int)tensor.Shape[1]));
    }

    /// <summary>Whether each token's output is bit-identical however many tokens share a <see cref="Forward"/> call.</summary>
    public virtual bool TokensIndependent => MatMul.TokensAlwaysIndependent(Weight.Type, Weight.Cols);

    /// <summary>x (tokens, InFeatures) → y (tokens, OutFeatures); see <see cref="MatMul.Multiply"/> for <paramref name="independentTokens"/>.</summary>
    public virtual void Forward(ReadOnlySpan<float> x, Span<float> y, int tokens, ComputePool pool, bool independentTokens = false)
    {
        var w = Weight;
        MatMul.Multiply(in w, x[..(tokens * InFeatures)], y[..(tokens * OutFeatures)], tokens, pool, independentTokens);
    }
}
