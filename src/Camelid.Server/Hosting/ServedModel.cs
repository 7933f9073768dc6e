using Camelid.Inference.Batching;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Server.Hosting;

/// <summary>One loaded model as the server exposes it: its name, tokenizer, chat template and batcher.</summary>
public sealed class ServedModel : IDisposable
{
    public ServedModel(string alias, LlamaModel model, TemplateChoice template, BatchingOptions batching)
    {
        Alias = alias;
        Model = model;
        Tokenizer = model.RequireTokenizer();
        Template = template;
        Batcher = new ContinuousBatcher(model, batching);
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string Alias { get; }
    public LlamaModel Model { get; }
    public Tokenizer Tokenizer { get; }
    public TemplateChoice Template { get; }
    public ContinuousBatcher Batcher { get; }
    public long Created { get; }
    public int ContextLength => Batcher.ContextLength;

    public void Dispose()
    {
        Batcher.Dispose();
        Model.Dispose();
    }
}

/// <summary>
/// The models of this server, loaded in the background after the server starts listening so that
/// /health can say "loading" (503) instead of refusing connections.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    readonly ServeOptions _options;
    readonly Dictionary<string, ServedModel> _models = new(StringComparer.Ordinal);
    readonly List<ServedModel> _loadOrder = []; // disposed in reverse: adapter views before the base they share
    readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ModelRegistry(ServeOptions options) => _options = options;

    /// <summary>Null while loading; the exception when loading failed.</summary>
    public Exception? LoadError { get; private set; }
    public bool IsLoaded => _loaded.Task.IsCompletedSuccessfully;
    public Task Loaded => _loaded.Task;

    public IReadOnlyCollection<ServedModel> Models { get { lock (_models) return _models.Values.ToList(); } }

    public ServedModel? Find(string alias) { lock (_models) return _models.GetValueOrDefault(alias); }

    /// <summary>The model when exactly one is served (a request may then omit "model").</summary>
    public ServedModel? Single { get { lock (_models) return _models.Count == 1 ? _models.Values.First() : null; } }

    public void Load(Action<string> log)
    {
        try
        {
            var shared = _options.Adapters.Where(a => a.Alias == null).Select(a => a.Adapter).ToList();
            ServedModel? first = null;
            foreach (var spec in _options.Models)
            {
                var model = LlamaModel.Load(spec.Path, new ModelLoadOptions { Threads = _options.Threads, TokenizerPath = _options.TokenizerPath, Adapters = shared });
                var served = Add(spec.Alias, model, $"{spec.Path} ({model.Format}, {model.ParameterCount / 1e6:F1}M parameters)", null, log);
                first ??= served;
            }
            foreach (var adapter in _options.Adapters.Where(a => a.Alias != null))
            {
                var base_ = first!.Model;
                var view = base_.WithAdapters([(LoraAdapter.Load(adapter.Adapter.Path, base_.Config), adapter.Adapter.Scale)], _options.Threads);
                Add(adapter.Alias!, view, $"'{first.Alias}' + LoRA {adapter.Adapter.Path} (scale {adapter.Adapter.Scale})", first.Template, log);
            }
            _loaded.SetResult();
        }
        catch (Exception e)
        {
            LoadError = e;
            _loaded.SetException(e);
        }
    }

    /// <summary>Serves <paramref name="model"/> as <paramref name="alias"/> (disposing it if that fails).</summary>
    ServedModel Add(string alias, LlamaModel model, string description, TemplateChoice? template, Action<string> log)
    {
        try
        {
            template ??= _options.Template.Equals("auto", StringComparison.OrdinalIgnoreCase)
                ? ChatTemplates.Detect(model.ChatTemplateSource, model.Name)
                : new TemplateChoice(ChatTemplates.Get(_options.Template), "chosen with --template", false);
            int ctx = _options.ContextLength > 0 ? _options.ContextLength : Math.Min(model.Config.TrainedContextLength, 2048);
            var served = new ServedModel(alias, model, template, new BatchingOptions
            {
                MaxSequences = _options.Parallel, ContextLength = ctx, MaxQueue = _options.MaxQueue,
            });
            lock (_models)
            {
                _models.Add(alias, served);
                _loadOrder.Add(served);
            }
            string adapters = model.Adapters.Count == 0 ? "" : $", {model.Adapters.Count} LoRA adapter(s) applied on the fly";
            log($"model '{alias}': {description}{adapters}, chat template {template.Template.Name} ({template.Reason}), " +
                $"{_options.Parallel} sequences × {ctx} positions (KV cache up to {served.Batcher.KvCacheBytes / (1 << 20)} MiB), {model.Threads} threads");
            return served;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_models)
        {
            for (int i = _loadOrder.Count - 1; i >= 0; i--)
                _loadOrder[i].Dispose();
            _loadOrder.Clear();
            _models.Clear();
        }
    }
}
