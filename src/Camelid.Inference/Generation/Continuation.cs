using System.Runtime.InteropServices;
using Camelid.Inference.Sampling;
using Camelid.Tokenization;

namespace Camelid.Inference.Generation;

/// <summary>
/// The token-by-token half of generation, shared by the single-sequence <see cref="Generator"/> and the
/// continuous batcher: given the logits after the last input, pick the next token, decode it to text,
/// watch for stop strings and end-of-text, and say when to stop. It never runs the model itself.
/// </summary>
public sealed class Continuation
{
    readonly Tokenizer _tokenizer;
    readonly GenerationRequest _request;
    readonly Sampler _sampler;
    readonly StopStrings _stops;
    readonly StreamingDecoder _decoder;
    readonly List<int> _history;
    readonly int _capacity;
    float[] _rawLogits = [];

    /// <param name="contextCapacity">positions in the sequence's KV cache: generation ends when it is full</param>
    public Continuation(Tokenizer tokenizer, GenerationRequest request, int contextCapacity)
    {
        var prompt = request.PromptTokens;
        if (prompt.Count == 0)
            throw new ArgumentException("the prompt must contain at least one token (BOS for an empty prompt)");
        if (prompt.Count >= contextCapacity)
            throw new Model.ContextOverflowException(prompt.Count + 1, contextCapacity);
        if (request.MaxTokens < 0)
            throw new ArgumentException("max tokens must be >= 0");
        if (request.TopLogprobs is < 0 or > MaxTopLogprobs)
            throw new ArgumentException($"top logprobs must be between 0 and {MaxTopLogprobs}");
        _tokenizer = tokenizer;
        _request = request;
        _capacity = contextCapacity;
        _sampler = new Sampler(request.Sampling);
        _stops = new StopStrings(request.StopStrings);
        // Right after BOS the first piece's dummy-prefix space is dropped (as sentencepiece decodes a text);
        // after other text it is a real space between the prompt and the continuation.
        _decoder = new StreamingDecoder(tokenizer, skipSpecial: true, atStartOfText: prompt[^1] == tokenizer.BosId);
        _history = new List<int>(prompt);
        if (request.MaxTokens == 0)
            Finished = FinishReason.Length;
    }

    public const int MaxTopLogprobs = 20;

    public int Generated { get; private set; }
    /// <summary>Set once generation is over; the caller then runs no more tokens and calls <see cref="Flush"/>.</summary>
    public FinishReason? Finished { get; private set; }
    /// <summary>The token to run through the model next (the last one sampled).</summary>
    public int NextInput => _history[^1];

    /// <summary>
    /// Samples the next token from <paramref name="logits"/> (modified in place by the penalties).
    /// <paramref name="cacheLength"/> is how many positions the sequence's cache holds now.
    /// Returns the update to stream, or null when the model ended the text.
    /// </summary>
    public GenerationUpdate? Advance(Span<float> logits, int cacheLength)
    {
        if (Finished != null)
            throw new InvalidOperationException("generation is already finished");
        if (_request.TopLogprobs != null)
        {
            if (_rawLogits.Length < logits.Length)
                _rawLogits = new float[logits.Length];
            logits.CopyTo(_rawLogits);
        }
        int next = _sampler.Sample(logits, CollectionsMarshal.AsSpan(_history));
        if (_tokenizer.IsEndOfGeneration(next))
        {
            Finished = FinishReason.EndOfText;
            return null;
        }
        Generated++;
        _history.Add(next);
        string text = _stops.Push(_decoder.Push(next));
        var logprob = _request.TopLogprobs is int top ? TokenLogprob.Of(_tokenizer, _rawLogits.AsSpan(0, logits.Length), next, top) : null;
        if (_stops.Stopped)
            Finished = FinishReason.Stop;
        else if (Generated == _request.MaxTokens || cacheLength >= _capacity)
            Finished = FinishReason.Length;
        return new GenerationUpdate(text, next, Logprob: logprob);
    }

    /// <summary>Ends generation early (the client went away).</summary>
    public void Cancel() => Finished ??= FinishReason.Cancelled;

    /// <summary>Text held back for an incomplete character or a possible stop string, at the end.</summary>
    public string Flush()
    {
        string rest = _stops.Push(_decoder.Flush()) + _stops.Flush();
        if (_stops.Stopped && Finished != FinishReason.Cancelled)
            Finished = FinishReason.Stop;
        return Finished == FinishReason.Cancelled ? "" : rest;
    }
}
