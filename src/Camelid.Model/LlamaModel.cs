using Camelid.Formats;
using Camelid.Model.Adapters;
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
    /// <summary>LoRA adapters (PEFT folders) applied on the fly, each with its scale multiplier (1 = as trained).</summary>
    public IReadOnlyList<AdapterReference> Adapters { get; init; } = [];
}

/// <summary>A PEFT adapter folder and the multiplier of its α/r scale (<c>--lora DIR[:SCALE]</c>).</summary>
public sealed record AdapterReference(string Path, float Scale = 1f)
{
    /// <summary>Parses DIR or DIR:SCALE (the last colon followed by a number is the scale).</summary>
    public static AdapterReference Parse(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon > 0 && float.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float scale))
        {
            if (!float.IsFinite(scale))
                throw new FormatException($"{text}: the adapter scale must be a finite number");
            return new AdapterReference(text[..colon], scale);
        }
        return new AdapterReference(text);
    }
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

    /// <summary>The adapters applied on the fly (none for a plain model).</summary>
    public IReadOnlyList<(LoraAdapter Adapter, float Scale)> Adapters { get; private init; } = [];

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
        var model = new LlamaModel(loaded, options.Threads);
        if (options.Adapters.Count == 0)
            return model;
        try
        {
            var adapters = options.Adapters.Select(a => (LoraAdapter.Load(a.Path, model.Config), a.Scale)).ToList();
            var adapted = model.WithAdapters(adapters, options.Threads, ownsBase: true);
            return adapted;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// This model with LoRA adapters applied on the fly (<see cref="LoraLinear"/>): the weights are shared, not
    /// copied, so a server can hold one base and several adapted views. The base must outlive the view unless
    /// <paramref name="ownsBase"/>, in which case disposing the view disposes the base.
    /// </summary>
    public LlamaModel WithAdapters(IReadOnlyList<(LoraAdapter Adapter, float Scale)> adapters, int threads = 0, bool ownsBase = false)
    {
        var all = Adapters.Concat(adapters).ToList();
        LayerWeights Adapt(LayerWeights layer, int index)
        {
            Linear Wrap(BlockMatrix target)
            {
                var linear = layer.Of(target);
                var own = adapters.SelectMany(a => a.Adapter.Matrices.Where(m => m.Layer == index && m.Target == target).Select(m => (m, a.Scale))).ToList();
                return own.Count == 0 ? linear : new LoraLinear(linear, own);
            }
            return new LayerWeights
            {
                AttentionNorm = layer.AttentionNorm, FfnNorm = layer.FfnNorm,
                Wq = Wrap(BlockMatrix.Q), Wk = Wrap(BlockMatrix.K), Wv = Wrap(BlockMatrix.V), Wo = Wrap(BlockMatrix.O),
                W1 = Wrap(BlockMatrix.Gate), W2 = Wrap(BlockMatrix.Down), W3 = Wrap(BlockMatrix.Up),
            };
        }
        var head = adapters.SelectMany(a => a.Adapter.Matrices.Where(m => m.Target == BlockMatrix.Head).Select(m => (m, a.Scale))).ToList();
        var weights = new LlamaWeights
        {
            TokenEmbedding = Weights.TokenEmbedding,
            Layers = Weights.Layers.Select(Adapt).ToArray(),
            OutputNorm = Weights.OutputNorm,
            Output = head.Count == 0 ? Weights.Output : new LoraLinear(Weights.Output, head),
        };
        var storage = ownsBase ? (IDisposable)this : new NoStorage();
        var loaded = new LoadedModel(Path, Format, storage, Config, weights, Tensors, Tokenizer, ChatTemplateSource, Name);
        return new LlamaModel(loaded, threads > 0 ? threads : Threads) { Adapters = all };
    }

    sealed class NoStorage : IDisposable
    {
        public void Dispose() { }
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
