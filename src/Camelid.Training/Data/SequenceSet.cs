using Camelid.Training.Model;

namespace Camelid.Training.Data;

/// <summary>
/// Training or validation sequences, read from the token cache on demand. A sequence is one example, or several
/// packed ones concatenated (each with its own BOS and mask).
/// </summary>
public sealed class SequenceSet
{
    readonly TokenCache _cache;
    readonly int[] _examples; // cache example indices, sequence after sequence
    readonly int[] _starts;   // (Count + 1) where each sequence's examples begin in _examples

    internal SequenceSet(TokenCache cache, (int[] Examples, int[] Starts) layout)
    {
        _cache = cache;
        (_examples, _starts) = layout;
    }

    public int Count => _starts.Length - 1;

    /// <summary>Fills a batch's unused positions (see <see cref="TrainingData.PadToken"/>).</summary>
    public int PadToken => _cache.PadToken;

    /// <summary>The cache indices of the examples in sequence <paramref name="index"/>.</summary>
    public ReadOnlySpan<int> Examples(int index) => _examples.AsSpan(_starts[index], _starts[index + 1] - _starts[index]);

    public int Length(int index)
    {
        int length = 0;
        foreach (int example in Examples(index))
            length += _cache.Length(example);
        return length;
    }

    /// <summary>Tokens of sequence <paramref name="index"/> and, per token, whether it is a target.</summary>
    public (int[] Tokens, bool[] Trained) this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"there are {Count} sequences");
            int length = Length(index);
            var tokens = new int[length];
            var trained = new bool[length];
            int at = 0;
            foreach (int example in Examples(index))
            {
                int n = _cache.Length(example);
                _cache.Read(example, tokens.AsSpan(at, n), trained.AsSpan(at, n));
                at += n;
            }
            return (tokens, trained);
        }
    }

    /// <summary>A micro-batch of the given sequences, padded to the longest.</summary>
    public TokenBatch Batch(ReadOnlySpan<int> indices)
    {
        var rows = new (int[] Tokens, bool[] Trained)[indices.Length];
        for (int i = 0; i < indices.Length; i++)
            rows[i] = this[indices[i]];
        return TokenBatch.FromSequences(rows, PadToken);
    }

    /// <summary>All sequences in index order, <paramref name="microBatch"/> at a time (the last batch may be smaller): the validation pass.</summary>
    public IEnumerable<TokenBatch> InOrder(int microBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatch, 1);
        var order = Enumerable.Range(0, Count).ToArray();
        for (int start = 0; start < Count; start += microBatch)
            yield return Batch(order.AsSpan(start, Math.Min(microBatch, Count - start)));
    }
}
