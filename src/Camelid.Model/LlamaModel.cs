using Camelid.Formats;
using Camelid.Model.Loading;
using Camelid.Tensors.Threading;
using Camelid.Tokenization;

namespace Camelid.Model;

/// <summary>Runtime options chosen by the user, separate from the file's hyperparameters.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>A tokenizer file for formats that do not embed one (llama2.c tokenizer.bin or a SentencePiece tokenizer.model).</summary>
    public string? TokenizerPath { get; init; }
    /// <summary>Compute threads; 0 means one per core.</summary>
    public int Threads { get; init; }
}

/// <summary>
/// A loaded LLaMA-family model: hyperparameters, weights (views into the memory-mapped file), the
/// tokenizer when the files provide one, and what is known of its chat format.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    readonly IDisposable _storage;
    readonly ComputePool _pool;

    public string Path { get; }
    public string Format { get; }
    public LlamaConfig Config { get; }
    public LlamaWeights Weights { get; }
    public Tokenizer? Tokenizer { get; }
    /// <summary>All tensors of the file(s), for `camelid info`.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }
    /// <summary>The model's own Jinja chat template, if the files carry one.</summary>
    public string? ChatTemplateSource { get; }
    /// <summary>The model's name from metadata or its folder/file name, a hint for chat template detection.</summary>
    public string Name { get; }
    public Transformer Transformer { get; }

    internal LlamaModel(LoadedModel loaded, int threads)
    {
        _storage = loaded.Storage;
        Path = loaded.Path;
        Format = loaded.Format;
        Config = loaded.Config;
        Weights = loaded.Weights;
        Tokenizer = loaded.Tokenizer;
        Tensors = loaded.Tensors;
        ChatTemplateSource = loaded.ChatTemplate;
        Name = loaded.Name;
        _pool = new ComputePool(threads > 0 ? threads : Environment.ProcessorCount);
        Transformer = new Transformer(Config, Weights, _pool);
    }

    public static LlamaModel Load(string path, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        if (options.Threads < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "threads must be 0 (one per core) or more");
        var loaded = ModelLoader.Load(path, options.TokenizerPath);
        return new LlamaModel(loaded, options.Threads);
    }

    /// <summary>Loads only the tokenizer of a model path (also for vocabulary-only GGUF files).</summary>
    public static Tokenizer LoadTokenizer(string path, string? tokenizerPath = null) => ModelLoader.LoadTokenizer(path, tokenizerPath);

    /// <summary>A standalone tokenizer file: a SentencePiece tokenizer.model or a llama2.c tokenizer.bin (every record read).</summary>
    public static Tokenizer LoadTokenizerFile(string path) => File.Exists(path)
        ? ModelLoader.LoadTokenizerFile(path, vocabSize: 0)
        : throw new ModelFormatException($"{path}: no such tokenizer file");

    public int Threads => _pool.Threads;

    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    public Tokenizer RequireTokenizer() => Tokenizer
        ?? throw new ModelFormatException($"{Path}: no tokenizer found; pass --tokenizer FILE (a llama2.c tokenizer.bin or a SentencePiece tokenizer.model)");

    /// <summary>A KV cache for up to <paramref name="contextLength"/> positions (the model's trained context if 0).</summary>
    public KvCache NewKvCache(int contextLength = 0)
    {
        if (contextLength < 0)
            throw new ArgumentOutOfRangeException(nameof(contextLength), "the context length must be positive");
        return new KvCache(Config.Layers, contextLength == 0 ? Config.TrainedContextLength : contextLength, Config.KvDim);
    }

    /// <summary>Runs tokens through the model, appending to the cache; logits (T, vocab) or the last token's (vocab).</summary>
    public float[] Forward(ReadOnlySpan<int> tokens, KvCache cache, bool allLogits)
    {
        var logits = new float[(allLogits ? tokens.Length : 1) * Config.VocabSize];
        Transformer.Forward(tokens, cache, logits, allLogits);
        return logits;
    }

    public void Dispose()
    {
        _pool.Dispose();
        _storage.Dispose();
    }
}
