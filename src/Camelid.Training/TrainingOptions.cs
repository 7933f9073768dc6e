using Camelid.Training.Optimization;

namespace Camelid.Training;

/// <summary>
/// How a run trains. Defaults are Alpaca's published hyperparameters (3 epochs, lr 2e-5, global batch 128,
/// cosine schedule with 3% warmup, no weight decay) with clipping at 1.0 as HF Trainer does.
/// </summary>
public sealed record TrainingOptions
{
    public double Epochs { get; init; } = 3;
    /// <summary>Stop after this many optimizer steps even if the epochs are not done (0: no limit).</summary>
    public int MaxSteps { get; init; }
    public double LearningRate { get; init; } = 2e-5;
    /// <summary>Sequences per optimizer step (global batch), independent of <see cref="MicroBatch"/>.</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Sequences per forward/backward pass; BatchSize / MicroBatch passes are accumulated per step.</summary>
    public int MicroBatch { get; init; } = 4;
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    public double WarmupRatio { get; init; } = 0.03;
    public AdamWOptions Optimizer { get; init; } = new();
    /// <summary>Global gradient-norm limit (0: no clipping).</summary>
    public double GradClip { get; init; } = 1.0;
    public bool GradientCheckpointing { get; init; }
    /// <summary>Validation loss every this many steps (0: at the end of each epoch and of the run).</summary>
    public int EvalEvery { get; init; }
    /// <summary>A checkpoint every this many steps (0: only at the end and when interrupted).</summary>
    public int SaveEvery { get; init; }
    /// <summary>Checkpoints kept; older ones are deleted after a new one is complete.</summary>
    public int KeepCheckpoints { get; init; } = 2;
    public long Seed { get; init; } = 42;

    public int AccumulationSteps => BatchSize / MicroBatch;

    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Epochs > 0 && double.IsFinite(Epochs), $"--epochs must be positive, got {Epochs}");
        Require(MaxSteps >= 0, $"--max-steps must be 0 (no limit) or positive, got {MaxSteps}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be positive, got {LearningRate}");
        Require(MicroBatch >= 1, $"--micro-batch must be at least 1, got {MicroBatch}");
        Require(BatchSize >= MicroBatch && BatchSize % MicroBatch == 0,
            $"--batch-size ({BatchSize}) must be a multiple of --micro-batch ({MicroBatch}): each step accumulates batch-size / micro-batch passes");
        Require(WarmupRatio is >= 0 and <= 1, $"--warmup-ratio must be in [0, 1], got {WarmupRatio}");
        Require(Optimizer.WeightDecay >= 0, $"--weight-decay must not be negative, got {Optimizer.WeightDecay}");
        Require(GradClip >= 0, $"--grad-clip must be 0 (off) or positive, got {GradClip}");
        Require(EvalEvery >= 0 && SaveEvery >= 0, "--eval-every and --save-every must be 0 or positive");
        Require(KeepCheckpoints >= 1, $"--keep-checkpoints must be at least 1, got {KeepCheckpoints}");
    }
}
