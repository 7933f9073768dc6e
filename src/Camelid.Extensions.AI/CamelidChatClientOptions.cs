namespace Camelid.Extensions.AI;

/// <summary>How <see cref="CamelidChatClient.Open"/> loads and serves a model; every field has a working default.</summary>
public sealed record CamelidChatClientOptions
{
    /// <summary>The name the client reports and accepts in <c>ChatOptions.ModelId</c>; null uses the model's own name.</summary>
    public string? ModelId { get; init; }
    /// <summary>A chat template name ("llama-2", "chatml", ...); null or "auto" recognises it from the model.</summary>
    public string? Template { get; init; }
    /// <summary>Positions of each sequence's KV cache (prompt + answer); 0 means the model's trained context, at most <see cref="DefaultContextLimit"/>.</summary>
    public int ContextLength { get; init; }
    /// <summary>Conversations answered at once; each holds a KV cache of <see cref="ContextLength"/> positions.</summary>
    public int MaxSequences { get; init; } = 4;
    /// <summary>Calls that may wait for a free sequence before <see cref="Camelid.Inference.Batching.QueueFullException"/>.</summary>
    public int MaxQueue { get; init; } = 64;
    /// <summary>Compute threads; 0 means one per core.</summary>
    public int Threads { get; init; }
    /// <summary>A tokenizer file for formats that do not embed one (llama2.c tokenizer.bin or a SentencePiece tokenizer.model).</summary>
    public string? TokenizerPath { get; init; }

    /// <summary>The server's default too: a model trained on a long context would otherwise reserve a KV cache that large per sequence.</summary>
    public const int DefaultContextLimit = 2048;
}
