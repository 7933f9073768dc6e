namespace Camelid.Inference.Batching;

/// <summary>How many sequences a <see cref="ContinuousBatcher"/> runs at once, and how many may wait.</summary>
public sealed record BatchingOptions
{
    /// <summary>Sequences decoded together; each owns a KV cache of <see cref="ContextLength"/> positions.</summary>
    public int MaxSequences { get; init; } = 4;
    /// <summary>Positions of every sequence's KV cache (prompt + answer); 0 means the model's trained context.</summary>
    public int ContextLength { get; init; }
    /// <summary>Requests that may wait for a free sequence; beyond, <see cref="QueueFullException"/>.</summary>
    public int MaxQueue { get; init; } = 64;
    /// <summary>Prompt tokens per prefill step (and the unit of prompt-cache reuse); the single-sequence generator's by default.</summary>
    public int PrefillChunk { get; init; } = Generation.Generator.PrefillChunk;

    public void Validate()
    {
        if (MaxSequences < 1)
            throw new ArgumentException($"parallel sequences must be at least 1 (got {MaxSequences})");
        if (ContextLength < 0)
            throw new ArgumentException($"the context length must be positive (got {ContextLength})");
        if (PrefillChunk < 1)
            throw new ArgumentException($"the prefill chunk must be at least 1 token (got {PrefillChunk})");
        if (MaxQueue < 0)
            throw new ArgumentException($"the queue length must be 0 or more (got {MaxQueue})");
    }
}

/// <summary>Every sequence is busy and the waiting line is full; the caller should retry later.</summary>
public sealed class QueueFullException(int waiting)
    : Exception($"the server is busy: {waiting} requests are already waiting; retry shortly")
{
    public int Waiting { get; } = waiting;
}
