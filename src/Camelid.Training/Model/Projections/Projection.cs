using Camelid.Tensors.Threading;
using static Camelid.Tensors.Training.Differentiable;

namespace Camelid.Training.Model.Projections;

/// <summary>
/// What a forward pass is for. Dropout is active only while training; its masks are a pure function of
/// <see cref="NoiseKey"/>, so a block recomputed for gradient checkpointing draws the same masks again.
/// </summary>
public readonly record struct ForwardPass(bool Training, ulong NoiseKey)
{
    public static ForwardPass Inference => new(false, 0);
}

/// <summary>
/// y (T, out) = x (T, in) · Wᵀ for one matrix of a block, and its backward pass: the one abstraction every product
/// of the training model goes through. A dense trainable weight, a frozen (possibly quantized) weight and a weight
/// with a LoRA adapter are all projections, so the transformer's code is the same for full fine-tuning, LoRA and QLoRA.
/// </summary>
public abstract class Projection
{
    public abstract string Name { get; }
    public abstract int InFeatures { get; }
    public abstract int OutFeatures { get; }
    /// <summary>How the weight is held, e.g. "f32" or "frozen nf4".</summary>
    public abstract string Kind { get; }

    /// <summary>The parameters this projection updates (their gradients are accumulated by <see cref="Backward"/>).</summary>
    public abstract IEnumerable<Parameter> TrainableParameters { get; }

    public abstract void Forward(Span<float> y, ReadOnlySpan<float> x, int T, ComputePool pool, ForwardPass pass);

    /// <summary>
    /// From dy, the gradient of its own output: dx = dy·W (+= when <paramref name="accumulateInput"/>), and the
    /// trainable parameters' gradients. <paramref name="x"/> is the input of the last <see cref="Forward"/> of the
    /// same pass (for LoRA, the same <see cref="ForwardPass.NoiseKey"/>).
    /// </summary>
    public abstract void Backward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int T, ComputePool pool, bool accumulateInput);

    public override string ToString() => $"{Name} ({OutFeatures}, {InFeatures})";
}

/// <summary>An f32 weight held as a <see cref="Parameter"/>: trained in full fine-tuning, frozen (no gradient) under LoRA.</summary>
public sealed class DenseProjection(Parameter weight) : Projection
{
    public Parameter Weight => weight;
    public override string Name => weight.Name;
    public override int InFeatures => weight.Cols;
    public override int OutFeatures => weight.Rows;
    public override string Kind => weight.Trainable ? "f32" : "frozen f32";
    public override IEnumerable<Parameter> TrainableParameters => weight.Trainable ? [weight] : [];

    public override void Forward(Span<float> y, ReadOnlySpan<float> x, int T, ComputePool pool, ForwardPass pass) =>
        LinearForward(y, x, weight.Value, T, InFeatures, OutFeatures, pool);

    public override void Backward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int T, ComputePool pool, bool accumulateInput) =>
        LinearBackward(dx, weight.Gradient, dy, x, weight.Value, T, InFeatures, OutFeatures, pool, accumulateInput);
}
