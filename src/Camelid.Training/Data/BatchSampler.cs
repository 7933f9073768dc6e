using Camelid.Training.Model;

namespace Camelid.Training.Data;

/// <summary>
/// Where a run is in its data: the epoch, and the index, in that epoch's order, of the next sequence to train on.
/// Saved in a checkpoint, it lets a resumed run see exactly the batches an uninterrupted one would have seen.
/// </summary>
public readonly record struct DataPosition(int Epoch, int Index);

/// <summary>
/// Yields training micro-batches in epoch order. Each epoch visits every training sequence once, in a permutation
/// that is a pure function of (seed, epoch): deterministic, different from epoch to epoch, and the same whether the
/// run was interrupted or not. An epoch's last batch has fewer rows when the sequences do not divide evenly; the next
/// batch starts the next epoch.
/// </summary>
public sealed class BatchSampler
{
    readonly SequenceSet _sequences;
    readonly int _microBatch;
    readonly long _seed;
    int[]? _order;
    int _orderEpoch = -1;

    public BatchSampler(SequenceSet sequences, int microBatch, long seed, DataPosition start = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatch, 1);
        if (sequences.Count == 0)
            throw new ArgumentException("there are no training sequences to sample from");
        if (start.Epoch < 0 || start.Index < 0 || start.Index > sequences.Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"a position needs epoch ≥ 0 and index in [0, {sequences.Count}]");
        _sequences = sequences;
        _microBatch = microBatch;
        _seed = seed;
        Position = start.Index == sequences.Count ? new DataPosition(start.Epoch + 1, 0) : start;
    }

    /// <summary>Position of the next batch's first sequence.</summary>
    public DataPosition Position { get; private set; }

    public int MicroBatch => _microBatch;

    public int BatchesPerEpoch => (_sequences.Count + _microBatch - 1) / _microBatch;

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the sequences.</summary>
    public int[] EpochOrder(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return TrainingData.Shuffled([.. Enumerable.Range(0, _sequences.Count)], _seed, TrainingData.EpochStream, epoch);
    }

    /// <summary>The batch at <see cref="Position"/>; advances the position past it.</summary>
    public TokenBatch Next()
    {
        if (_orderEpoch != Position.Epoch)
        {
            _order = EpochOrder(Position.Epoch);
            _orderEpoch = Position.Epoch;
        }
        int rows = Math.Min(_microBatch, _sequences.Count - Position.Index);
        var batch = _sequences.Batch(_order.AsSpan(Position.Index, rows));
        int next = Position.Index + rows;
        Position = next == _sequences.Count ? new DataPosition(Position.Epoch + 1, 0) : Position with { Index = next };
        return batch;
    }
}
