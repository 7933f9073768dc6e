using System.Numerics.Tensors;
using Camelid.Tensors.Threading;
using static Camelid.Tensors.Training.Differentiable;

namespace Camelid.Training.Model.Projections;

/// <summary>
/// LoRA (Hu et al. 2021) on a frozen projection: y = W·x + s·B·(A·dropout(x)), with A (r, in), B (out, r) and
/// s = α/r (or α/√r with rsLoRA), as PEFT's <c>lora.Linear</c> computes it. Only A and B are trained; the base
/// projection is called for its product and its input gradient and never written.
/// </summary>
public sealed class LoraProjection : Projection
{
    // Scratch shared by every adapter of the model: the transformer runs one projection at a time.
    [ThreadStatic] static float[]? t_dropped, t_delta, t_dv;

    readonly Projection _base;
    readonly ulong _noiseStream; // which dropout masks are this projection's
    float[] _v = [];            // (T, r): s·A·dropout(x) of the last forward, B's input
    ulong _lastNoise;
    bool _dropping;             // whether the last forward applied dropout

    public LoraProjection(Projection frozenBase, Parameter a, Parameter b, float scale, float dropout, int index)
    {
        if (frozenBase.TrainableParameters.Any())
            throw new ArgumentException($"{frozenBase.Name}: LoRA needs a frozen base projection");
        if (a.Cols != frozenBase.InFeatures || b.Rows != frozenBase.OutFeatures || a.Rows != b.Cols)
            throw new ArgumentException($"{frozenBase.Name}: LoRA A {a} and B {b} do not fit ({frozenBase.OutFeatures}, {frozenBase.InFeatures})");
        if (dropout is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "LoRA dropout must be in [0, 1)");
        _base = frozenBase;
        A = a;
        B = b;
        Scale = scale;
        Dropout = dropout;
        _noiseStream = (ulong)(index + 1) * 0x9E3779B97F4A7C15UL;
    }

    public Projection Base => _base;
    public Parameter A { get; }
    public Parameter B { get; }
    public int Rank => A.Rows;
    public float Scale { get; }
    public float Dropout { get; }

    public override string Name => _base.Name;
    public override int InFeatures => _base.InFeatures;
    public override int OutFeatures => _base.OutFeatures;
    public override string Kind => $"LoRA r={Rank} over {_base.Kind}";
    public override IEnumerable<Parameter> TrainableParameters => [A, B];

    public override void Forward(Span<float> y, ReadOnlySpan<float> x, int T, ComputePool pool, ForwardPass pass)
    {
        int r = Rank, input = InFeatures, output = OutFeatures;
        _base.Forward(y, x, T, pool, pass);
        _dropping = pass.Training && Dropout > 0;
        _lastNoise = pass.NoiseKey ^ _noiseStream;
        var dropped = Dropped(x, T * input);
        if (_v.Length < T * r)
            _v = new float[T * r];
        var v = _v.AsSpan(0, T * r);
        LinearForward(v, dropped, A.Value, T, input, r, pool);
        TensorPrimitives.Multiply(v, Scale, v);
        var delta = Scratch(ref t_delta, T * output);
        LinearForward(delta, v, B.Value, T, r, output, pool);
        TensorPrimitives.Add(y[..(T * output)], delta, y[..(T * output)]);
    }

    public override void Backward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int T, ComputePool pool, bool accumulateInput)
    {
        int r = Rank, input = InFeatures, output = OutFeatures;
        _base.Backward(dx, dy, x, T, pool, accumulateInput);
        // y += v·Bᵀ with v = s·A·x̃:  dB += dyᵀ·v,  dv = dy·B,  d(A·x̃) = s·dv
        var dv = Scratch(ref t_dv, T * r);
        LinearBackward(dv, B.Gradient, dy, _v.AsSpan(0, T * r), B.Value, T, r, output, pool);
        TensorPrimitives.Multiply(dv, Scale, dv);
        // dA += d(A·x̃)ᵀ·x̃,  dx̃ = d(A·x̃)·A,  and dropout's backward is the same mask and scale applied to dx̃
        var dropped = Dropped(x, T * input);
        var dDropped = Scratch(ref t_delta, T * input);
        LinearBackward(dDropped, A.Gradient, dv, dropped, A.Value, T, input, r, pool);
        if (_dropping)
            ApplyDropout(dDropped, dDropped, Dropout, _lastNoise);
        TensorPrimitives.Add(dx[..(T * input)], dDropped, dx[..(T * input)]);
    }

    /// <summary>x itself without dropout; otherwise x with the last forward's mask applied (kept values scaled by 1/(1−p)).</summary>
    ReadOnlySpan<float> Dropped(ReadOnlySpan<float> x, int count)
    {
        if (!_dropping)
            return x[..count];
        var dropped = Scratch(ref t_dropped, count);
        ApplyDropout(dropped, x[..count], Dropout, _lastNoise);
        return dropped;
    }

    /// <summary>
    /// Inverted dropout with a counter-based generator: element i is dropped when hash(key, i) &lt; p, so a mask is
    /// a pure function of the key (no generator state to save in checkpoints or to replay for recomputation).
    /// </summary>
    internal static void ApplyDropout(Span<float> destination, ReadOnlySpan<float> source, float p, ulong key)
    {
        float keep = 1f / (1f - p);
        ulong threshold = (ulong)(p * (double)(1UL << 53)); // compare 53-bit uniforms exactly
        for (int i = 0; i < source.Length; i++)
            destination[i] = Mix(key + (ulong)(i + 1) * 0x9E3779B97F4A7C15UL) >> 11 < threshold ? 0f : source[i] * keep;
    }

    /// <summary>SplitMix64's output function: Mix(key + n·γ) is the n-th value of the SplitMix64 stream seeded with key.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static Span<float> Scratch(ref float[]? buffer, int count)
    {
        if (buffer == null || buffer.Length < count)
            buffer = new float[count];
        return buffer.AsSpan(0, count);
    }
}
