namespace Camelid.Training.Optimization;

public enum ScheduleKind { Cosine, Linear, Constant }

/// <summary>
/// The learning rate of optimizer step s (0-based), as Hugging Face's schedulers compute it (Alpaca and Vicuna
/// trained with <c>--lr_scheduler_type cosine --warmup_ratio 0.03</c>): linear warmup from 0 over the first
/// <see cref="WarmupSteps"/> steps, then cosine to 0, linear to 0, or constant.
/// </summary>
public sealed record LearningRateSchedule(ScheduleKind Kind, double PeakRate, int WarmupSteps, int TotalSteps)
{
    /// <summary>HF rounds the warmup up: ceil(total · ratio).</summary>
    public static LearningRateSchedule FromWarmupRatio(ScheduleKind kind, double peakRate, double warmupRatio, int totalSteps)
    {
        if (warmupRatio is < 0 or > 1 || double.IsNaN(warmupRatio))
            throw new ArgumentOutOfRangeException(nameof(warmupRatio), $"the warmup ratio must be in [0, 1], got {warmupRatio}");
        return new(kind, peakRate, (int)Math.Ceiling(totalSteps * warmupRatio), totalSteps);
    }

    public double At(int step)
    {
        if (step < WarmupSteps)
            return PeakRate * step / Math.Max(1, WarmupSteps);
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Kind switch
        {
            ScheduleKind.Cosine => PeakRate * Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * progress))),
            ScheduleKind.Linear => PeakRate * Math.Max(0, 1 - progress),
            _ => PeakRate,
        };
    }
}
