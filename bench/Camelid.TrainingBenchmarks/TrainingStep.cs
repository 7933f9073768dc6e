using System.Diagnostics;
using Camelid.Training.Model;
using Camelid.Training.Optimization;

namespace Camelid.TrainingBenchmarks;

/// <summary>Seconds spent in each part of one optimizer step, and the step's mean loss.</summary>
sealed record StepTiming(double Zero, double ForwardBackward, double Clip, double Update, double Loss)
{
    public double Seconds => Zero + ForwardBackward + Clip + Update;
    /// <summary>Everything but forward and backward: zeroing, clipping and AdamW, as torch's zero_grad, clip_grad_norm_ and step.</summary>
    public double Optimizer => Zero + Clip + Update;
}

/// <summary>One optimizer step over one micro-batch, as a trainer without gradient accumulation makes it.</summary>
sealed class TrainingStep(TrainableModel model, TrainingTransformer transformer, AdamW optimizer)
{
    const double MaxGradientNorm = 1.0;
    const float LearningRate = 3e-4f;

    public StepTiming Run(TokenBatch batch)
    {
        long start = Stopwatch.GetTimestamp();
        model.ZeroGradients();
        long zeroed = Stopwatch.GetTimestamp();
        double lossSum = transformer.ForwardBackward(batch, 1f / batch.TrainedTokens);
        long backward = Stopwatch.GetTimestamp();
        GradientClipping.Clip(optimizer.Parameters, MaxGradientNorm);
        long clipped = Stopwatch.GetTimestamp();
        optimizer.Update(LearningRate);
        long updated = Stopwatch.GetTimestamp();
        return new StepTiming(Seconds(start, zeroed), Seconds(zeroed, backward), Seconds(backward, clipped), Seconds(clipped, updated), lossSum / batch.TrainedTokens);
    }

    static double Seconds(long from, long to) => (double)(to - from) / Stopwatch.Frequency;
}

static class RandomBatches
{
    /// <summary>
    /// <paramref name="count"/> batches of uniform random token ids, each row a sequence of seq + 1 tokens whose
    /// first seq are the inputs and last seq the targets, so every position carries a loss.
    /// </summary>
    public static List<TokenBatch> Make(int count, int rows, int seq, int vocab, int seed)
    {
        var random = new Random(seed + 1);
        var batches = new List<TokenBatch>(count);
        for (int b = 0; b < count; b++)
        {
            var inputs = new int[rows * seq];
            var targets = new int[rows * seq];
            for (int r = 0; r < rows; r++)
            {
                var sequence = new int[seq + 1];
                for (int t = 0; t <= seq; t++)
                    sequence[t] = random.Next(vocab);
                sequence.AsSpan(0, seq).CopyTo(inputs.AsSpan(r * seq));
                sequence.AsSpan(1, seq).CopyTo(targets.AsSpan(r * seq));
            }
            batches.Add(new TokenBatch(rows, seq, inputs, targets));
        }
        return batches;
    }
}

static class Statistics
{
    public static double Mean(IEnumerable<double> values) => values.DefaultIfEmpty(double.NaN).Average();

    /// <summary>Sample standard deviation (n − 1); 0 for a single value.</summary>
    public static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
            return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
