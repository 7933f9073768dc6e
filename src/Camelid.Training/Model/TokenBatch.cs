namespace Camelid.Training.Model;

/// <summary>
/// A micro-batch: <see cref="Rows"/> sequences of <see cref="Length"/> positions, row-major.
/// <see cref="Targets"/>[r, t] is the token the model should predict after reading Inputs[r, ..t], or
/// <see cref="Ignored"/> where no loss is taken (prompt and user turns, padding).
/// </summary>
public sealed class TokenBatch
{
    public const int Ignored = -1;

    public TokenBatch(int rows, int length, int[] inputs, int[] targets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (inputs.Length != rows * length || targets.Length != rows * length)
            throw new ArgumentException($"a batch of {rows}×{length} needs {rows * length} inputs and targets, got {inputs.Length} and {targets.Length}");
        Rows = rows;
        Length = length;
        Inputs = inputs;
        Targets = targets;
        TrainedTokens = targets.Count(t => t != Ignored);
    }

    public int Rows { get; }
    public int Length { get; }
    public int[] Inputs { get; }
    public int[] Targets { get; }
    /// <summary>Positions that carry a loss.</summary>
    public int TrainedTokens { get; }
    public int Tokens => Rows * Length;

    /// <summary>
    /// A batch from sequences of tokens with a per-token "is a target" mask (the first token is never one):
    /// input t is token t, its target token t+1 when trained. Rows are padded to the longest with
    /// <paramref name="padToken"/> and ignored targets.
    /// </summary>
    public static TokenBatch FromSequences(IReadOnlyList<(int[] Tokens, bool[] Trained)> sequences, int padToken)
    {
        if (sequences.Count == 0)
            throw new ArgumentException("a batch needs at least one sequence");
        int length = Math.Max(1, sequences.Max(s => s.Tokens.Length - 1));
        var inputs = new int[sequences.Count * length];
        var targets = new int[sequences.Count * length];
        inputs.AsSpan().Fill(padToken);
        targets.AsSpan().Fill(Ignored);
        for (int r = 0; r < sequences.Count; r++)
        {
            var (tokens, trained) = sequences[r];
            if (trained.Length != tokens.Length)
                throw new ArgumentException($"sequence {r}: {tokens.Length} tokens but {trained.Length} mask entries");
            for (int t = 0; t + 1 < tokens.Length; t++)
            {
                inputs[r * length + t] = tokens[t];
                if (trained[t + 1])
                    targets[r * length + t] = tokens[t + 1];
            }
            if (tokens.Length == 1)
                inputs[r * length] = tokens[0];
        }
        return new TokenBatch(sequences.Count, length, inputs, targets);
    }
}
