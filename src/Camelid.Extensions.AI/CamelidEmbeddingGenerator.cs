using Camelid.Inference.Batching;
using Camelid.Tokenization;
using Microsoft.Extensions.AI;

namespace Camelid.Extensions.AI;

/// <summary>
/// Text embeddings from a local model as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>: the final-normed
/// hidden states of the text's tokens, mean-pooled and L2-normalised (as the server's /v1/embeddings), computed by the
/// batcher between the decode steps of running chats. It does not own the batcher.
/// </summary>
public sealed class CamelidEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    readonly ContinuousBatcher _batcher;
    readonly Tokenizer _tokenizer;
    readonly EmbeddingGeneratorMetadata _metadata;

    /// <param name="modelId">the name reported with each embedding and accepted in <see cref="EmbeddingGenerationOptions.ModelId"/>; null uses the model's name</param>
    public CamelidEmbeddingGenerator(ContinuousBatcher batcher, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(batcher);
        _batcher = batcher;
        _tokenizer = batcher.Model.RequireTokenizer();
        ModelId = modelId ?? batcher.Model.Name;
        Dimensions = batcher.Model.Config.Dim;
        _metadata = new EmbeddingGeneratorMetadata(CamelidChatClient.ProviderName, providerUri: null, ModelId, Dimensions);
    }

    public string ModelId { get; }
    public int Dimensions { get; }

    /// <summary>One embedding per value, in order; every value is checked before any is computed.</summary>
    /// <exception cref="ArgumentException">An empty value, one longer than the context, or options asking for another model or size.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.ModelId is { } requested && !string.Equals(requested, ModelId, StringComparison.Ordinal))
            throw new ArgumentException($"this generator serves the model '{ModelId}', not '{requested}'", nameof(options));
        if (options?.Dimensions is int dimensions && dimensions != Dimensions)
            throw new ArgumentException($"this model's embeddings have {Dimensions} dimensions (asked for {dimensions})", nameof(options));

        var inputs = values.Select((text, i) => Tokenize(text, i)).ToList();
        var vectors = await Task.WhenAll(inputs.Select(tokens => _batcher.EmbedAsync(tokens, cancellationToken)));
        var created = DateTimeOffset.UtcNow;
        long tokenCount = inputs.Sum(t => (long)t.Length);
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = ModelId, CreatedAt = created }))
        {
            Usage = new UsageDetails { InputTokenCount = tokenCount, TotalTokenCount = tokenCount },
        };
    }

    int[] Tokenize(string text, int index)
    {
        if (string.IsNullOrEmpty(text))
            throw new ArgumentException($"value {index} is empty; there is nothing to embed", "values");
        var tokens = _tokenizer.Encode(text, addBos: _tokenizer.AddBosByDefault);
        if (tokens.Length > _batcher.ContextLength)
            throw new ArgumentException($"value {index} has {tokens.Length} tokens; the context is {_batcher.ContextLength}", "values");
        return tokens;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null)
            return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata))
            return _metadata;
        foreach (object service in new object[] { this, _batcher })
            if (serviceType.IsInstanceOfType(service))
                return service;
        return null;
    }

    /// <summary>Nothing to release: the batcher belongs to whoever created it.</summary>
    public void Dispose()
    {
    }
}
