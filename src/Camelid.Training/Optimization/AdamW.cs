using Camelid.Tensors.Training;
using Camelid.Training.Model;

namespace Camelid.Training.Optimization;

/// <summary>AdamW hyperparameters; the defaults are those of Alpaca's and Vicuna's fine-tuning (HF Trainer).</summary>
public sealed record AdamWOptions
{
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    /// <summary>Decoupled weight decay, applied to matrices only (<see cref="Parameter.Decays"/>).</summary>
    public float WeightDecay { get; init; }
}

/// <summary>
/// AdamW over the trainable parameters, with its two moments per parameter and the step count: the state
/// a checkpoint must hold for a resumed run to continue exactly.
/// </summary>
public sealed class AdamW
{
    readonly IReadOnlyList<Parameter> _parameters;

    public AdamW(IEnumerable<Parameter> parameters, AdamWOptions options)
    {
        _parameters = parameters.Where(p => p.Trainable).ToList();
        Options = options;
        FirstMoments = _parameters.Select(p => new float[p.Count]).ToArray();
        SecondMoments = _parameters.Select(p => new float[p.Count]).ToArray();
    }

    public AdamWOptions Options { get; }
    public IReadOnlyList<Parameter> Parameters => _parameters;
    /// <summary>Updates done so far (t in the bias corrections).</summary>
    public int Step { get; set; }
    public float[][] FirstMoments { get; }
    public float[][] SecondMoments { get; }

    public void Update(float learningRate)
    {
        Step++;
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            var settings = new AdamWUpdate.Settings(learningRate, Options.Beta1, Options.Beta2, Options.Epsilon,
                p.Decays ? Options.WeightDecay : 0f, Step);
            AdamWUpdate.Apply(p.Value, p.Gradient, FirstMoments[i], SecondMoments[i], settings);
        }
    }
}
