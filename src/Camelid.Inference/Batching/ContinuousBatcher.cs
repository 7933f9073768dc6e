using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Camelid.Inference.Generation;
using Camelid.Model;
using Camelid.Tokenization;

namespace Camelid.Inference.Batching;

/// <summary>
/// Serves many generations from one model at once (continuous batching, as in Orca and vLLM): one thread
/// owns the model and, step after step, runs one prompt chunk of a newly admitted sequence and then one
/// decode step for every running sequence together, so the weights are read once per step for all of them.
/// Sequences join and leave between steps. Each owns a KV cache of the full context length (no sharing
/// of one context between slots); requests beyond the free sequences wait in FIFO order, up to a limit.
///
/// Results do not depend on batching: decode steps use <see cref="Transformer.ForwardDecode"/>, which is
/// bit-identical to decoding alone, and prompts are prefilled in the same chunks as alone. A prompt starts from
/// the longest prefix of it that any sequence's cache holds (its own slot's, or copied from another: a shared
/// system prompt, an earlier turn of the conversation with its answer), as far as those positions are bit-identical
/// to recomputing them: all of them where <see cref="Transformer.PositionsIndependentOfChunking"/>, else whole
/// prefill chunks from position 0.
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    readonly LlamaModel _model;
    readonly Tokenizer _tokenizer;
    readonly BatchingOptions _options;
    readonly Slot[] _slots;
    readonly LinkedList<Sequence> _waiting = new();
    readonly List<Sequence> _running = new();
    readonly Queue<EmbeddingJob> _embeddings = new();
    readonly object _lock = new();
    readonly SemaphoreSlim _wake = new(0);
    readonly Thread _thread;
    readonly CancellationTokenSource _stopping = new();
    readonly bool _exactPositions;
    KvCache? _embeddingCache;

    public ContinuousBatcher(LlamaModel model, BatchingOptions? options = null)
    {
        options ??= new BatchingOptions();
        options.Validate();
        _model = model;
        _tokenizer = model.RequireTokenizer();
        _options = options;
        ContextLength = options.ContextLength > 0 ? options.ContextLength : model.Config.TrainedContextLength;
        _slots = Enumerable.Range(0, options.MaxSequences).Select(_ => new Slot()).ToArray();
        _exactPositions = model.Transformer.PositionsIndependentOfChunking;
        _thread = new Thread(Run) { IsBackground = true, Name = "camelid-batcher" };
        _thread.Start();
    }

    public LlamaModel Model => _model;
    public int ContextLength { get; }
    public int MaxSequences => _options.MaxSequences;
    /// <summary>Bytes of KV cache when every sequence is in use (caches are allocated on first use, then kept).</summary>
    public long KvCacheBytes => 2L * _model.Config.Layers * ContextLength * _model.Config.KvDim * sizeof(float) * MaxSequences;

    /// <summary>Requests not yet running (including those about to take a free sequence).</summary>
    public int Waiting { get { lock (_lock) return _waiting.Count; } }
    public int Running { get { lock (_lock) return _running.Count; } }

    /// <summary>
    /// Queues a generation and returns its stream of updates (the last one carries the summary).
    /// Throws at once, before anything is queued, when the prompt cannot fit or the queue is full.
    /// Cancelling <paramref name="cancellation"/> ends the stream and frees the sequence at the next step.
    /// </summary>
    /// <exception cref="ContextOverflowException">The prompt leaves no room for an answer.</exception>
    /// <exception cref="QueueFullException">Every sequence is busy and <see cref="BatchingOptions.MaxQueue"/> requests are waiting.</exception>
    public IAsyncEnumerable<GenerationUpdate> Submit(GenerationRequest request, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var sequence = new Sequence(request, new Continuation(_tokenizer, request, ContextLength));
        lock (_lock)
        {
            // Waiting requests first take the free sequences (at the next step); only the rest count as queued.
            int queued = _waiting.Count - _slots.Count(s => s.Owner == null);
            if (queued >= _options.MaxQueue)
                throw new QueueFullException(Math.Max(queued, 0));
            _waiting.AddLast(sequence);
        }
        sequence.CancellationRegistration = cancellation.Register(() => { sequence.CancelRequested = true; _wake.Release(); });
        _wake.Release();
        return sequence.Updates.Reader.ReadAllAsync(CancellationToken.None);
    }

    /// <summary>The final-normed hidden state of each token, mean-pooled and L2-normalised (the model's text embedding).</summary>
    public Task<float[]> EmbedAsync(IReadOnlyList<int> tokens, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (tokens.Count == 0)
            throw new ArgumentException("the input must contain at least one token");
        if (tokens.Count > ContextLength)
            throw new ContextOverflowException(tokens.Count, ContextLength);
        var job = new EmbeddingJob(tokens.ToArray(), cancellation, _model.Config.Dim);
        lock (_lock)
            _embeddings.Enqueue(job);
        _wake.Release();
        return job.Result.Task;
    }

    void Run()
    {
        var vocab = _model.Config.VocabSize;
        var logits = new float[vocab];
        var batchLogits = Array.Empty<float>();
        var inputs = new List<int>();
        var caches = new List<KvCache>();
        var decoding = new List<Sequence>();
        while (!_stopping.IsCancellationRequested)
        {
            EmbeddingJob? job;
            Sequence? prefilling;
            lock (_lock)
            {
                DropCancelled();
                Admit();
                job = _embeddings.Count > 0 ? _embeddings.Peek() : null;
                prefilling = null;
                decoding.Clear();
                foreach (var s in _running)
                    if (s.PromptDone)
                        decoding.Add(s);
                    else
                        prefilling ??= s;
            }
            if (job == null && prefilling == null && decoding.Count == 0)
            {
                _wake.Wait();
                continue;
            }
            try
            {
                if (job != null && EmbeddingChunk(job))
                    lock (_lock)
                        _embeddings.Dequeue();
                // One prompt (or embedding) chunk per step keeps running streams flowing while a long input is read.
                if (prefilling != null)
                    RunPrefillChunk(prefilling, logits);
                if (decoding.Count > 0)
                {
                    inputs.Clear();
                    caches.Clear();
                    foreach (var s in decoding)
                    {
                        inputs.Add(s.Continuation.NextInput);
                        caches.Add(s.Slot!.Cache!);
                    }
                    if (batchLogits.Length < decoding.Count * vocab)
                        batchLogits = new float[decoding.Count * vocab];
                    _model.Transformer.ForwardDecode(CollectionsMarshal.AsSpan(inputs), CollectionsMarshal.AsSpan(caches), batchLogits);
                    for (int i = 0; i < decoding.Count; i++)
                    {
                        var s = decoding[i];
                        s.Slot!.Tokens.Add(inputs[i]);
                        Emit(s, batchLogits.AsSpan(i * vocab, vocab));
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failure inside the model fails the sequences it touched, never the batcher.
                lock (_lock)
                    foreach (var s in _running.ToList())
                        Fail(s, e);
                if (job != null)
                {
                    job.Result.TrySetException(e);
                    lock (_lock)
                        _embeddings.Dequeue();
                }
            }
        }
    }

    /// <summary>Moves waiting sequences into free slots, preferring the slot whose cache shares the longest reusable prefix.</summary>
    void Admit()
    {
        while (_waiting.First is { } node && _slots.Any(s => s.Owner == null))
        {
            var sequence = node.Value;
            _waiting.RemoveFirst();
            var prompt = sequence.Request.PromptTokens;
            var slot = _slots.Where(s => s.Owner == null).MaxBy(s => (ReusablePrefix(s, prompt), -s.LastUsed))!;
            slot.Cache ??= _model.NewKvCache(ContextLength);
            int reused = ReusablePrefix(slot, prompt);
            slot.Cache.Truncate(reused);
            slot.Tokens.RemoveRange(reused, slot.Tokens.Count - reused);
            slot.AlignedPrefix = reused;
            slot.Owner = sequence;
            slot.LastUsed = Stopwatch.GetTimestamp();
            sequence.Slot = slot;
            sequence.Reused = reused;
            sequence.Clock.Restart();
            _running.Add(sequence);
        }
    }

    /// <summary>
    /// Positions of the slot's cache valid for this prompt: the common prefix of the tokens it holds, as far as they
    /// were computed exactly as a fresh prefill would (<see cref="ExactPositions"/>), cut to whole prefill chunks
    /// where positions depend on chunking, and leaving at least the prompt's last token to run.
    /// </summary>
    int ReusablePrefix(Slot slot, IReadOnlyList<int> prompt)
    {
        int limit = Math.Min(ExactPositions(slot), prompt.Count - 1), n = 0;
        while (n < limit && slot.Tokens[n] == prompt[n])
            n++;
        return _exactPositions ? n : n / _options.PrefillChunk * _options.PrefillChunk;
    }

    /// <summary>Leading positions of the slot's cache that a fresh prefill of its tokens would compute bit for bit.</summary>
    int ExactPositions(Slot slot) => _exactPositions ? slot.Tokens.Count : slot.AlignedPrefix;

    /// <summary>
    /// Extends the sequence's cache with the longest further prefix of its prompt that another slot holds (a shared
    /// system prompt, a request repeated while the first still runs): a copy instead of a forward pass.
    /// </summary>
    void CopySharedPrefix(Sequence s)
    {
        var slot = s.Slot!;
        var prompt = s.Request.PromptTokens;
        int start = slot.Cache!.Length, best = start;
        Slot? source = null;
        foreach (var other in _slots)
            if (other != slot && other.Cache != null && ReusablePrefix(other, prompt) is int shared && shared > best)
                (source, best) = (other, shared);
        if (source == null)
            return;
        slot.Cache.CopyFrom(source.Cache!, best);
        for (int i = start; i < best; i++)
            slot.Tokens.Add(prompt[i]);
        if (slot.AlignedPrefix == start) // the copy holds whole chunks where positions depend on chunking
            slot.AlignedPrefix = best;
        s.Reused += best - start;
    }

    void RunPrefillChunk(Sequence s, float[] logits)
    {
        CopySharedPrefix(s);
        var slot = s.Slot!;
        var cache = slot.Cache!;
        var prompt = s.Request.PromptTokens;
        int start = cache.Length;
        // Chunks start at multiples of the chunk size from position 0, as a fresh single-sequence prefill does.
        int end = Math.Min(prompt.Count, (start / _options.PrefillChunk + 1) * _options.PrefillChunk);
        var chunk = new int[end - start];
        for (int i = 0; i < chunk.Length; i++)
            chunk[i] = prompt[start + i];
        _model.Transformer.Forward(chunk, cache, logits, allLogits: false);
        slot.Tokens.AddRange(chunk);
        if (chunk.Length == _options.PrefillChunk && slot.AlignedPrefix == start)
            slot.AlignedPrefix = end;
        if (end < prompt.Count)
            return;
        s.PromptDone = true;
        s.PromptTime = s.Clock.Elapsed;
        s.Clock.Restart();
        Emit(s, logits);
    }

    /// <summary>Samples the sequence's next token and streams it; finishes the sequence when it is done.</summary>
    void Emit(Sequence s, Span<float> logits)
    {
        if (s.Continuation.Advance(logits, s.Slot!.Cache!.Length) is { } update)
            s.Updates.Writer.TryWrite(update);
        if (s.Continuation.Finished != null)
            lock (_lock)
                Finish(s);
    }

    void DropCancelled()
    {
        for (var node = _waiting.First; node != null;)
        {
            var next = node.Next;
            if (node.Value.CancelRequested)
            {
                _waiting.Remove(node);
                node.Value.Continuation.Cancel();
                Finish(node.Value);
            }
            node = next;
        }
        for (int i = _running.Count - 1; i >= 0; i--) // Finish removes the sequence from _running
            if (_running[i] is { CancelRequested: true } s)
            {
                s.Continuation.Cancel();
                Finish(s);
            }
    }

    void Finish(Sequence s)
    {
        string rest = s.Continuation.Flush();
        var summary = new GenerationSummary(s.Continuation.Finished!.Value, s.Request.PromptTokens.Count, s.Reused,
            s.Continuation.Generated, s.PromptTime, s.PromptDone ? s.Clock.Elapsed : TimeSpan.Zero);
        s.Updates.Writer.TryWrite(new GenerationUpdate(rest, null, summary));
        Release(s);
        s.Updates.Writer.TryComplete();
    }

    void Fail(Sequence s, Exception e)
    {
        Release(s);
        s.Updates.Writer.TryComplete(e);
    }

    void Release(Sequence s)
    {
        _running.Remove(s);
        if (s.Slot is { } slot)
        {
            slot.Owner = null;
            // The cache stays for later prompts that share its start, as far as a fresh prefill would compute it
            // alike (where positions depend on chunking, decode steps and a partial last chunk would not).
            slot.Cache!.Truncate(Math.Min(slot.Cache.Length, ExactPositions(slot)));
            slot.Tokens.RemoveRange(slot.Cache.Length, slot.Tokens.Count - slot.Cache.Length);
        }
        s.CancellationRegistration.Dispose();
    }

    /// <summary>
    /// Runs the next prompt-sized chunk of an embedding (so a long input does not pause running streams for
    /// its whole length) and, after the last, pools and normalises it. Returns true when the job is finished.
    /// </summary>
    bool EmbeddingChunk(EmbeddingJob job)
    {
        if (job.Cancellation.IsCancellationRequested)
        {
            job.Result.TrySetCanceled(job.Cancellation);
            return true;
        }
        var cache = _embeddingCache ??= _model.NewKvCache(ContextLength);
        int dim = _model.Config.Dim;
        if (job.Done == 0)
            cache.Clear();
        int count = Math.Min(_options.PrefillChunk, job.Tokens.Length - job.Done);
        var hidden = new float[count * dim];
        _model.Transformer.ForwardHidden(job.Tokens.AsSpan(job.Done, count), cache, hidden);
        for (int t = 0; t < count; t++)
            System.Numerics.Tensors.TensorPrimitives.Add(job.Pooled, hidden.AsSpan(t * dim, dim), job.Pooled);
        job.Done += count;
        if (job.Done < job.Tokens.Length)
            return false;
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(job.Pooled);
        if (norm > 0)
            System.Numerics.Tensors.TensorPrimitives.Divide(job.Pooled, norm, job.Pooled);
        job.Result.TrySetResult(job.Pooled);
        return true;
    }

    public void Dispose()
    {
        if (_stopping.IsCancellationRequested)
            return;
        _stopping.Cancel();
        _wake.Release();
        _thread.Join();
        lock (_lock)
        {
            foreach (var s in _running.Concat(_waiting).ToList())
                Fail(s, new ObjectDisposedException(nameof(ContinuousBatcher), "the server is shutting down"));
            _waiting.Clear();
            foreach (var job in _embeddings)
                job.Result.TrySetException(new ObjectDisposedException(nameof(ContinuousBatcher)));
        }
    }

    /// <summary>A KV cache kept across requests, with the tokens it holds.</summary>
    sealed class Slot
    {
        public KvCache? Cache;
        public readonly List<int> Tokens = new();
        /// <summary>Leading positions computed by whole prefill chunks from position 0 (bit-exact to reuse even where
        /// positions depend on chunking).</summary>
        public int AlignedPrefix;
        public Sequence? Owner;
        public long LastUsed;
    }

    sealed class Sequence(GenerationRequest request, Continuation continuation)
    {
        public GenerationRequest Request { get; } = request;
        public Continuation Continuation { get; } = continuation;
        public Channel<GenerationUpdate> Updates { get; } = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        public Slot? Slot;
        public int Reused;
        public bool PromptDone;
        public volatile bool CancelRequested;
        public CancellationTokenRegistration CancellationRegistration;
        public readonly Stopwatch Clock = new();
        public TimeSpan PromptTime;
    }

    sealed record EmbeddingJob(int[] Tokens, CancellationToken Cancellation, int Dim)
    {
        public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public float[] Pooled { get; } = new float[Dim];
        /// <summary>Tokens already run through the model.</summary>
        public int Done { get; set; }
    }
}
