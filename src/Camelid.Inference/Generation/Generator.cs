using System.Diagnostics;
using System.Runtime.CompilerServices;
using Camelid.Inference.Sampling;
using Camelid.Model;
using Camelid.Tokenization;

namespace Camelid.Inference.Generation;

public enum FinishReason { Stop, Length, EndOfText, Cancelled }

/// <summary>What to generate: the prompt as token ids, a budget, the sampling rule and extra stop strings.</summary>
public sealed record GenerationRequest
{
    public required IReadOnlyList<int> PromptTokens { get; init; }
    /// <summary>Most tokens to generate; generation also ends when the context is full.</summary>
    public int MaxTokens { get; init; } = 256;
    public SamplingOptions Sampling { get; init; } = new();
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>When set, every generated token carries its log-probability and this many most likely alternatives.</summary>
    public int? TopLogprobs { get; init; }
}

/// <summary>Timings and counts of one generation, like llama.cpp's end-of-run statistics.</summary>
public sealed record GenerationSummary(
    FinishReason FinishReason, int PromptTokens, int ReusedPromptTokens, int GeneratedTokens,
    TimeSpan PromptTime, TimeSpan GenerationTime)
{
    public double PromptTokensPerSecond => PromptTime.TotalSeconds > 0 ? (PromptTokens - ReusedPromptTokens) / PromptTime.TotalSeconds : 0;
    /// <summary>Rate of decode steps: the first token comes out of the prompt pass, so it is not counted.</summary>
    public double GenerationTokensPerSecond => GenerationTime.TotalSeconds > 0 && GeneratedTokens > 1 ? (GeneratedTokens - 1) / GenerationTime.TotalSeconds : 0;
}

/// <summary>One step of a stream: new text (possibly empty while a character or stop string is incomplete), the token, and at the end a summary.</summary>
public sealed record GenerationUpdate(string Text, int? TokenId, GenerationSummary? Summary = null, TokenLogprob? Logprob = null);

/// <summary>
/// Prefill then decode, one token at a time, streaming decoded text. The KV cache may carry a previous
/// conversation: the longest common prefix of cached and prompt tokens is reused, the rest recomputed.
/// </summary>
public sealed class Generator(LlamaModel model)
{
    /// <summary>Prompt tokens per forward call: bounds scratch memory and lets a long prompt be cancelled.</summary>
    public const int PrefillChunk = 512;

    readonly List<int> _cachedTokens = new(); // tokens whose keys/values are in the cache, in order

    public LlamaModel Model => model;

    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, KvCache cache,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var prompt = request.PromptTokens;
        var continuation = new Continuation(model.RequireTokenizer(), request, cache.Capacity);
        var logits = new float[model.Config.VocabSize];

        // Reuse what the cache already holds for this prompt; always recompute at least the last token for its logits.
        if (_cachedTokens.Count != cache.Length)
            _cachedTokens.Clear();
        int reused = CommonPrefix(_cachedTokens, prompt, Math.Min(cache.Length, prompt.Count - 1));
        cache.Truncate(reused);
        _cachedTokens.RemoveRange(reused, _cachedTokens.Count - reused);

        var clock = Stopwatch.StartNew();
        var promptArray = prompt.ToArray();
        for (int start = reused; start < promptArray.Length; start += PrefillChunk)
        {
            if (cancellation.IsCancellationRequested)
            {
                yield return Final(FinishReason.Cancelled, 0, clock.Elapsed, TimeSpan.Zero);
                yield break;
            }
            int count = Math.Min(PrefillChunk, promptArray.Length - start);
            await Task.Run(() => model.Transformer.Forward(promptArray.AsSpan(start, count), cache, logits, allLogits: false), CancellationToken.None);
            _cachedTokens.AddRange(promptArray.AsSpan(start, count));
        }
        var promptTime = clock.Elapsed;
        clock.Restart();

        var single = new int[1];
        while (continuation.Finished == null)
        {
            if (cancellation.IsCancellationRequested) { continuation.Cancel(); break; }
            if (continuation.Advance(logits, cache.Length) is { } update)
                yield return update;
            if (continuation.Finished != null)
                break;
            single[0] = continuation.NextInput;
            await Task.Run(() => model.Transformer.Forward(single, cache, logits, allLogits: false), CancellationToken.None);
            _cachedTokens.Add(single[0]);
        }
        string rest = continuation.Flush();
        yield return Final(continuation.Finished!.Value, continuation.Generated, promptTime, clock.Elapsed, rest);

        GenerationUpdate Final(FinishReason r, int n, TimeSpan p, TimeSpan g, string text = "") =>
            new(text, null, new GenerationSummary(r, prompt.Count, reused, n, p, g));
    }

    /// <summary>Collects a whole generation into a string (for tests and non-streaming callers).</summary>
    public async Task<(string Text, GenerationSummary Summary)> GenerateTextAsync(GenerationRequest request, KvCache cache, CancellationToken cancellation = default)
    {
        var text = new System.Text.StringBuilder();
        GenerationSummary? summary = null;
        await foreach (var update in GenerateAsync(request, cache, cancellation))
        {
            text.Append(update.Text);
            summary ??= update.Summary;
        }
        return (text.ToString(), summary!);
    }

    static int CommonPrefix(List<int> cached, IReadOnlyList<int> prompt, int limit)
    {
        int n = 0;
        while (n < limit && n < cached.Count && cached[n] == prompt[n])
            n++;
        return n;
    }
}
