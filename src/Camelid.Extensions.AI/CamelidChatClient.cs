using System.Runtime.CompilerServices;
using System.Text;
using Camelid.Inference.Batching;
using Camelid.Inference.Generation;
using Camelid.Model;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;
using Microsoft.Extensions.AI;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatRole = Microsoft.Extensions.AI.ChatRole;

namespace Camelid.Extensions.AI;

/// <summary>
/// A local model as an <see cref="IChatClient"/>, in process: the conversation goes through the model's chat
/// template and is answered by a <see cref="ContinuousBatcher"/>, so concurrent calls share the model the way
/// the server's requests do. Answers match the server's /v1/chat/completions for the same conversation and options.
/// A call beyond the free sequences waits its turn; beyond <see cref="BatchingOptions.MaxQueue"/> waiting calls it
/// fails with <see cref="QueueFullException"/>.
/// </summary>
public sealed class CamelidChatClient : IChatClient
{
    public const string ProviderName = "camelid";

    readonly ContinuousBatcher _batcher;
    readonly ChatTemplate _template;
    readonly Tokenizer _tokenizer;
    readonly ChatClientMetadata _metadata;
    readonly LlamaModel? _ownedModel;
    int _disposed;

    /// <summary>A client over a batcher the caller owns (and disposes after this client).</summary>
    /// <param name="modelId">the name reported in responses and accepted in <see cref="ChatOptions.ModelId"/>; null uses the model's name</param>
    public CamelidChatClient(ContinuousBatcher batcher, ChatTemplate template, string? modelId = null)
        : this(batcher, template, modelId, ownedModel: null)
    {
    }

    CamelidChatClient(ContinuousBatcher batcher, ChatTemplate template, string? modelId, LlamaModel? ownedModel)
    {
        ArgumentNullException.ThrowIfNull(batcher);
        ArgumentNullException.ThrowIfNull(template);
        _batcher = batcher;
        _template = template;
        _tokenizer = batcher.Model.RequireTokenizer();
        ModelId = modelId ?? batcher.Model.Name;
        _metadata = new ChatClientMetadata(ProviderName, providerUri: null, ModelId);
        _ownedModel = ownedModel;
    }

    /// <summary>
    /// Loads the model, recognises its chat template (unless <see cref="CamelidChatClientOptions.Template"/> names one)
    /// and starts a batcher; disposing the client releases them all.
    /// </summary>
    public static CamelidChatClient Open(string modelPath, CamelidChatClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= new CamelidChatClientOptions();
        var model = LlamaModel.Load(modelPath, new ModelLoadOptions { Threads = options.Threads, TokenizerPath = options.TokenizerPath });
        try
        {
            var template = options.Template is null || options.Template.Equals("auto", StringComparison.OrdinalIgnoreCase)
                ? ChatTemplates.Detect(model.ChatTemplateSource, model.Name).Template
                : ChatTemplates.Get(options.Template);
            int context = options.ContextLength > 0
                ? options.ContextLength
                : Math.Min(model.Config.TrainedContextLength, CamelidChatClientOptions.DefaultContextLimit);
            var batcher = new ContinuousBatcher(model, new BatchingOptions
            {
                MaxSequences = options.MaxSequences, ContextLength = context, MaxQueue = options.MaxQueue,
            });
            return new CamelidChatClient(batcher, template, options.ModelId, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public string ModelId { get; }
    public ChatTemplate Template => _template;
    /// <summary>The batcher answering this client's calls; share it with a <see cref="CamelidEmbeddingGenerator"/> to embed with the same model.</summary>
    public ContinuousBatcher Batcher => _batcher;

    /// <summary>The prompt tokens a call with these messages and options would run (to count tokens before asking).</summary>
    /// <exception cref="ArgumentException">The messages do not make a conversation the template can write.</exception>
    /// <exception cref="NotSupportedException">A message has a role or content other than system/user/assistant text.</exception>
    public int[] EncodePrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        var conversation = ChatRequestMapping.ToTemplateMessages(messages, options);
        try
        {
            return _template.Encode(_tokenizer, conversation);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"these messages do not fit the {_template.Name} chat template: {e.Message}", nameof(messages), e);
        }
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var request = Prepare(messages, options);
        var created = DateTimeOffset.UtcNow;
        var answer = new AnswerText();
        GenerationSummary? summary = null;
        await foreach (var update in RunAsync(request, cancellationToken))
        {
            answer.Append(update.Text);
            summary ??= update.Summary;
        }
        string id = NewResponseId();
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, answer.ToString()) { MessageId = id, CreatedAt = created })
        {
            ResponseId = id,
            ModelId = ModelId,
            CreatedAt = created,
            FinishReason = FinishReasonOf(summary!),
            Usage = UsageOf(summary!),
        };
    }

    /// <summary>
    /// Streams the answer. Arguments are checked when this is called; the model starts on the first MoveNextAsync.
    /// Cancelling, or leaving the enumeration early, frees the sequence before the enumeration ends.
    /// </summary>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var request = Prepare(messages, options);
        return StreamAsync(request, cancellationToken);
    }

    async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellation)
    {
        string id = NewResponseId();
        var created = DateTimeOffset.UtcNow;
        var answer = new AnswerText();
        ChatResponseUpdate Update(List<AIContent> contents) => new(ChatRole.Assistant, contents)
        {
            ResponseId = id, MessageId = id, ModelId = ModelId, CreatedAt = created,
        };

        await foreach (var update in RunAsync(request, cancellation))
        {
            string text = answer.Append(update.Text);
            if (update.Summary is { } summary)
            {
                var contents = new List<AIContent>();
                if (text.Length > 0)
                    contents.Add(new TextContent(text));
                contents.Add(new UsageContent(UsageOf(summary)));
                var last = Update(contents);
                last.FinishReason = FinishReasonOf(summary);
                yield return last;
            }
            else if (text.Length > 0)
                yield return Update([new TextContent(text)]);
        }
    }

    /// <summary>The engine request for a call, checked whole before anything is queued.</summary>
    GenerationRequest Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (options?.ModelId is { } requested && !string.Equals(requested, ModelId, StringComparison.Ordinal))
            throw new ArgumentException($"this client serves the model '{ModelId}', not '{requested}'", nameof(options));
        ChatRequestMapping.RejectUnsupported(options);
        var sampling = ChatRequestMapping.ToSampling(options);
        var prompt = EncodePrompt(messages, options);

        int context = _batcher.ContextLength;
        if (options?.MaxOutputTokens is int requestedMax)
        {
            if (requestedMax < 1)
                throw new ArgumentException($"MaxOutputTokens must be at least 1 (got {requestedMax})", nameof(options));
            if ((long)prompt.Length + requestedMax > context)
                throw new ArgumentException(
                    $"the prompt has {prompt.Length} tokens and MaxOutputTokens is {requestedMax}: {(long)prompt.Length + requestedMax} tokens " +
                    $"do not fit the context of {context}; shorten the conversation or lower MaxOutputTokens", nameof(options));
        }
        else if (prompt.Length >= context)
            throw new ArgumentException(
                $"the prompt has {prompt.Length} tokens, which leaves no room for an answer in the context of {context}; shorten the conversation",
                nameof(messages));

        return new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = options?.MaxOutputTokens ?? context - prompt.Length,
            Sampling = sampling,
            StopStrings = (options?.StopSequences ?? []).Concat(_template.StopStrings).Distinct().ToArray(),
        };
    }

    /// <summary>
    /// The engine's updates for one request. The sequence is freed before this enumeration ends however it ends:
    /// the caller's token cancels it, and so does leaving early; either way the rest is read until the batcher lets go.
    /// A cancelled generation ends in <see cref="OperationCanceledException"/>, as .NET's async streams do.
    /// </summary>
    async IAsyncEnumerable<GenerationUpdate> RunAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var updates = _batcher.Submit(request, stop.Token).GetAsyncEnumerator(CancellationToken.None);
        bool completed = false;
        try
        {
            while (true)
            {
                if (!await updates.MoveNextAsync())
                {
                    completed = true;
                    yield break;
                }
                var update = updates.Current;
                // The batcher may be steps ahead of the reader: a cancelled caller gets no more of the answer either way.
                if (cancellation.IsCancellationRequested || update.Summary?.FinishReason == FinishReason.Cancelled)
                {
                    cancellation.ThrowIfCancellationRequested();
                    throw new OperationCanceledException("the generation was cancelled");
                }
                yield return update;
            }
        }
        finally
        {
            if (!completed)
            {
                stop.Cancel();
                await DrainAsync(updates);
            }
            await updates.DisposeAsync();
        }
    }

    static async Task DrainAsync(IAsyncEnumerator<GenerationUpdate> updates)
    {
        try
        {
            while (await updates.MoveNextAsync())
            {
            }
        }
        catch (Exception)
        {
            // The stream failed or the batcher shut down: either way the sequence is released and nobody reads on.
        }
    }

    static ChatFinishReason FinishReasonOf(GenerationSummary summary) =>
        summary.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    static UsageDetails UsageOf(GenerationSummary summary) => new()
    {
        InputTokenCount = summary.PromptTokens,
        OutputTokenCount = summary.GeneratedTokens,
        TotalTokenCount = summary.PromptTokens + summary.GeneratedTokens,
        CachedInputTokenCount = summary.ReusedPromptTokens,
    };

    static string NewResponseId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null)
            return null;
        if (serviceType == typeof(ChatClientMetadata))
            return _metadata;
        foreach (object service in new object[] { this, _batcher, _template })
            if (serviceType.IsInstanceOfType(service))
                return service;
        return null;
    }

    /// <summary>Releases the batcher and the model when <see cref="Open"/> created them; a client over a caller's batcher leaves it running.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _ownedModel == null)
            return;
        _batcher.Dispose();
        _ownedModel.Dispose();
    }

    /// <summary>The answer as it accumulates; the whitespace a template leaves before the answer is dropped, as the server does.</summary>
    sealed class AnswerText
    {
        readonly StringBuilder _text = new();

        /// <summary>Adds streamed text and returns the part that belongs to the answer.</summary>
        public string Append(string text)
        {
            if (_text.Length == 0)
                text = text.TrimStart();
            _text.Append(text);
            return text;
        }

        public override string ToString() => _text.ToString();
    }
}
