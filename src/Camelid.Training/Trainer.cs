using System.Diagnostics;
using System.Globalization;
using Camelid.Tensors.Threading;
using Camelid.Training.Checkpoints;
using Camelid.Training.Data;
using Camelid.Training.Model;
using Camelid.Training.Optimization;
using Camelid.Training.Reporting;

namespace Camelid.Training;

public enum TrainingOutcome { Completed, Interrupted }

/// <summary>The loss or the gradient norm became NaN or infinite; the weights of that step were not updated.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// The training loop: data → micro-batches → forward/backward (accumulated over BatchSize / MicroBatch passes)
/// → clip → AdamW with the scheduled learning rate → metrics, validation, checkpoints. Deterministic given the
/// seed: every shuffle is a function of (seed, epoch) and every kernel sums in a fixed order, so a run resumed
/// from a checkpoint continues bit for bit as if it had never stopped.
/// </summary>
public sealed class Trainer
{
    readonly TrainableModel _trainable;
    readonly TrainingData _data;
    readonly TrainingOptions _options;
    readonly string _run;
    readonly TrainingTransformer _model;
    readonly AdamW _optimizer;
    readonly LearningRateSchedule _schedule;
    readonly MetricsLog _metrics;
    BatchSampler _sampler;
    int _step;
    long _tokensSeen;
    double _secondsBefore; // training time of the run before it was resumed

    /// <summary>Trains every weight of <paramref name="parameters"/> (pretraining, full fine-tuning).</summary>
    public Trainer(LlamaParameters parameters, TrainingData data, TrainingOptions options, ComputePool pool, string runDirectory)
        : this(TrainableModel.Dense(parameters), data, options, pool, runDirectory) { }

    /// <summary>Trains the trainable parameters of <paramref name="model"/> (all of them, or LoRA adapters over a frozen base).</summary>
    public Trainer(TrainableModel model, TrainingData data, TrainingOptions options, ComputePool pool, string runDirectory)
    {
        options.Validate();
        if (data.Train.Count == 0)
            throw new ArgumentException("there are no training sequences");
        if (model.TrainableParameters.Count == 0)
            throw new ArgumentException("the model has no trainable parameters");
        _trainable = model;
        _data = data;
        _options = options;
        _run = runDirectory;
        Directory.CreateDirectory(runDirectory);
        _model = new TrainingTransformer(model, pool, options.GradientCheckpointing);
        _optimizer = new AdamW(model.TrainableParameters, options.Optimizer);
        int stepsForEpochs = Math.Max(1, (int)Math.Ceiling(options.Epochs * data.Train.Count / options.BatchSize));
        TotalSteps = options.MaxSteps > 0 ? Math.Min(options.MaxSteps, stepsForEpochs) : stepsForEpochs;
        _schedule = LearningRateSchedule.FromWarmupRatio(options.Schedule, options.LearningRate, options.WarmupRatio, TotalSteps);
        _sampler = new BatchSampler(data.Train, options.MicroBatch, options.Seed);
        _metrics = new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"));
    }

    public int TotalSteps { get; }
    public int Step => _step;
    public LearningRateSchedule Schedule => _schedule;
    public TrainingTransformer Model => _model;
    public string MetricsPath => _metrics.Path;
    public string ChartPath => Path.Combine(_run, "loss.png");

    public event Action<StepMetrics>? StepCompleted;
    public event Action<ValidationMetrics>? Validated;
    public event Action<string>? CheckpointSaved;

    /// <summary>
    /// Continues from the run directory's newest checkpoint: weights, optimizer moments and step, data position,
    /// and the metrics log cut back to that step. Returns null (and changes nothing) when there is none.
    /// </summary>
    public TrainingState? Resume()
    {
        string? latest = Checkpoint.Latest(_run);
        if (latest == null)
            return null;
        var saved = Checkpoint.ReadState(latest);
        if (saved.Fingerprint != Fingerprint())
            throw new ArgumentException(
                $"{latest} was written by a run with different settings ({saved.Fingerprint}); this run has ({Fingerprint()}). " +
                "Resume with the same data and options, or start a new run in another --out folder.");
        var state = Checkpoint.Load(latest, _optimizer);
        _step = state.Step;
        _tokensSeen = state.TokensSeen;
        _secondsBefore = state.ElapsedSeconds;
        _sampler = new BatchSampler(_data.Train, _options.MicroBatch, _options.Seed, state.Position);
        _metrics.TruncateAfter(_step);
        return state;
    }

    /// <summary>
    /// Trains until <see cref="TotalSteps"/> or until <paramref name="cancellation"/> is signalled; it is checked
    /// between steps, and an interrupted run saves a checkpoint before returning.
    /// </summary>
    public TrainingOutcome Run(CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        int lastSaved = _step;
        while (_step < TotalSteps)
        {
            if (cancellation.IsCancellationRequested)
            {
                if (lastSaved != _step)
                    Save(clock);
                return TrainingOutcome.Interrupted;
            }
            int epochBefore = _sampler.Position.Epoch;
            var metrics = TrainStep(clock);
            _metrics.Append(metrics);
            StepCompleted?.Invoke(metrics);

            bool last = _step == TotalSteps;
            bool epochEnded = _sampler.Position.Epoch != epochBefore;
            if (_data.Validation.Count > 0 && (last || (_options.EvalEvery > 0 ? _step % _options.EvalEvery == 0 : epochEnded)))
                Validate();
            if (last || (_options.SaveEvery > 0 && _step % _options.SaveEvery == 0))
            {
                Save(clock);
                lastSaved = _step;
            }
        }
        WriteChart();
        return TrainingOutcome.Completed;
    }

    StepMetrics TrainStep(Stopwatch clock)
    {
        var stepClock = Stopwatch.StartNew();
        var batches = new TokenBatch[_options.AccumulationSteps];
        for (int i = 0; i < batches.Length; i++)
            batches[i] = _sampler.Next();
        int trained = batches.Sum(b => b.TrainedTokens);
        int tokens = batches.Sum(b => b.Tokens);

        _trainable.ZeroGradients();
        double lossSum = 0;
        if (trained > 0)
            for (int i = 0; i < batches.Length; i++)
                lossSum += _model.ForwardBackward(batches[i], 1f / trained, NoiseKey(_step, i));
        double loss = trained > 0 ? lossSum / trained : 0;
        double norm = _options.GradClip > 0 ? GradientClipping.Clip(_optimizer.Parameters, _options.GradClip) : GradientClipping.GlobalNorm(_optimizer.Parameters);
        if (!double.IsFinite(loss) || !double.IsFinite(norm))
            throw new TrainingDivergedException(
                $"step {_step + 1}: the loss ({loss}) or gradient norm ({norm}) is not finite; the weights were not updated. " +
                "Lower --lr or raise --warmup-ratio, then resume from the last checkpoint.");
        double rate = _schedule.At(_step);
        _optimizer.Update((float)rate);
        _step++;
        _tokensSeen += tokens;
        double elapsed = _secondsBefore + clock.Elapsed.TotalSeconds;
        return new StepMetrics(_step, TotalSteps, EpochProgress(), loss, rate, norm, trained, tokens, tokens / stepClock.Elapsed.TotalSeconds, elapsed);
    }

    /// <summary>The mean loss over every trained token of the validation set.</summary>
    public ValidationMetrics Validate()
    {
        double sum = 0;
        long count = 0;
        foreach (var batch in _data.Validation.InOrder(_options.MicroBatch))
        {
            sum += _model.Loss(batch);
            count += batch.TrainedTokens;
        }
        var metrics = new ValidationMetrics(_step, EpochProgress(), count > 0 ? sum / count : 0, count);
        _metrics.Append(metrics);
        Validated?.Invoke(metrics);
        WriteChart();
        return metrics;
    }

    void Save(Stopwatch clock)
    {
        var state = new TrainingState
        {
            Step = _step,
            TotalSteps = TotalSteps,
            Epoch = _sampler.Position.Epoch,
            EpochIndex = _sampler.Position.Index,
            TokensSeen = _tokensSeen,
            ElapsedSeconds = _secondsBefore + clock.Elapsed.TotalSeconds,
            Fingerprint = Fingerprint(),
        };
        string folder = Checkpoint.Save(_run, state, _optimizer, _options.KeepCheckpoints);
        CheckpointSaved?.Invoke(folder);
    }

    void WriteChart()
    {
        var (train, validation) = _metrics.Read();
        LossChart.Write(train, validation, ChartPath, $"{Path.GetFileName(Path.GetFullPath(_run))}: loss per step");
    }

    /// <summary>The dropout masks of micro-batch <paramref name="micro"/> of step <paramref name="step"/>: a function of the seed only.</summary>
    ulong NoiseKey(int step, int micro) =>
        (ulong)_options.Seed * 0xD1B54A32D192ED03UL ^ ((ulong)step << 20 | (uint)micro) * 0x9E3779B97F4A7C15UL;

    double EpochProgress() => _sampler.Position.Epoch + (double)_sampler.Position.Index / _data.Train.Count;

    /// <summary>Everything that decides the sequence of updates; gradient checkpointing and threads do not.</summary>
    string Fingerprint()
    {
        var o = _options;
        return string.Create(CultureInfo.InvariantCulture,
            $"steps={TotalSteps} batch={o.BatchSize} micro={o.MicroBatch} seed={o.Seed} lr={o.LearningRate:R} schedule={o.Schedule} warmup={o.WarmupRatio:R} " +
            $"wd={o.Optimizer.WeightDecay:R} betas={o.Optimizer.Beta1:R},{o.Optimizer.Beta2:R} eps={o.Optimizer.Epsilon:R} clip={o.GradClip:R} " +
            $"train={_data.Train.Count} validation={_data.Validation.Count} tokens={_data.Report.Tokens} trained={_trainable.Describe()}");
    }
}
