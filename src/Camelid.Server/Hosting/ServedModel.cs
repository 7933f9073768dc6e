using Camelid.Inference.Batching;
using Camelid.Model;
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
            foreach (var spec in _options.Models)
            {
                var model = LlamaModel.Load(spec.Path, new ModelLoadOptions { Threads = _options.Threads, TokenizerPath = _options.TokenizerPath });
                try
                {
                    var template = _options.Template.Equals("auto", StringComparison.OrdinalIgnoreCase)
                        ? ChatTemplates.Detect(model.ChatTemplateSource, model.Name)
                        : new TemplateChoice(ChatTemplates.Get(_options.Template), "chosen with --template", false);
                    int ctx = _options.ContextLength > 0 ? _options.ContextLength : Math.Min(model.Config.TrainedContextLength, 2048);
                    var served = new ServedModel(spec.Alias, model, template, new BatchingOptions
                    {
                        MaxSequences = _options.Parallel, ContextLength = ctx, MaxQueue = _options.MaxQueue,
                    });
                    lock (_models)
                        _models.Add(spec.Alias, served);
                    log($"model '{spec.Alias}': {spec.Path} ({model.Format}, {model.ParameterCount / 1e6:F1}M parameters), " +
                        $"chat template {template.Template.Name} ({template.Reason}), {_options.Parallel} sequences × {ctx} positions " +
                        $"(KV cache up to {served.Batcher.KvCacheBytes / (1 << 20)} MiB), {model.Threads} threads");
                }
                catch
                {
                    model.Dispose();
                    throw;
                }
            }
            _loaded.SetResult();
        }
        catch (Exception e)
        {
            LoadError = e;
            _loaded.SetException(e);
        }
    }

    public void Dispose()
    {
        lock (_models)
        {
            foreach (var m in _models.Values)
                m.Dispose();
            _models.Clear();
        }
    }
}
