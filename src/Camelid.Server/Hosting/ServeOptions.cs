using Camelid.Model;

namespace Camelid.Server.Hosting;

/// <summary>A model to serve: a path and the name clients ask for (the file or folder name by default).</summary>
public sealed record ModelSpec(string Path, string Alias)
{
    /// <summary>Parses "PATH" or "PATH=ALIAS".</summary>
    public static ModelSpec Parse(string text)
    {
        int eq = text.LastIndexOf('=');
        string path = eq > 0 ? text[..eq] : text;
        string alias = eq > 0 ? text[(eq + 1)..] : DefaultAlias(path);
        if (path.Length == 0 || alias.Length == 0)
            throw new ArgumentException($"--model '{text}': expected PATH or PATH=ALIAS");
        return new ModelSpec(path, alias);
    }

    static string DefaultAlias(string path)
    {
        string trimmed = path.TrimEnd('/', '\\');
        string name = System.IO.Path.GetFileName(trimmed);
        return Directory.Exists(trimmed) ? name : System.IO.Path.GetFileNameWithoutExtension(name);
    }
}

/// <summary>
/// A LoRA adapter to serve: without an alias it applies to every model; with one, the first model plus this adapter is
/// served as another model of that name, sharing the base's weights.
/// </summary>
public sealed record AdapterSpec(AdapterReference Adapter, string? Alias)
{
    /// <summary>Parses "DIR", "DIR:SCALE", "DIR=ALIAS" or "DIR:SCALE=ALIAS".</summary>
    public static AdapterSpec Parse(string text)
    {
        int eq = text.LastIndexOf('=');
        string reference = eq > 0 ? text[..eq] : text;
        string? alias = eq > 0 ? text[(eq + 1)..] : null;
        if (reference.Length == 0 || alias is { Length: 0 })
            throw new ArgumentException($"--lora '{text}': expected DIR[:SCALE] or DIR[:SCALE]=ALIAS");
        try
        {
            return new AdapterSpec(AdapterReference.Parse(reference), alias);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"--lora '{text}': {e.Message}");
        }
    }
}

/// <summary>Everything `camelid serve` is told on its command line.</summary>
public sealed record ServeOptions
{
    public required IReadOnlyList<ModelSpec> Models { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (printed when listening).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Keys accepted in "Authorization: Bearer KEY"; none means the API is open.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];
    /// <summary>Sequences each model generates at once (continuous batching).</summary>
    public int Parallel { get; init; } = 4;
    /// <summary>Context positions of every sequence; 0 means the model's trained context, at most 2048.</summary>
    public int ContextLength { get; init; }
    /// <summary>Compute threads per model; 0 means one per core.</summary>
    public int Threads { get; init; }
    /// <summary>Requests that may wait per model when every sequence is busy; beyond, 429.</summary>
    public int MaxQueue { get; init; } = 64;
    /// <summary>A chat template name, or "auto" to detect it from the model.</summary>
    public string Template { get; init; } = "auto";
    /// <summary>Largest request body accepted; beyond, 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 << 20;
    /// <summary>A tokenizer file for llama2.c checkpoints (applies to every model that lacks one).</summary>
    public string? TokenizerPath { get; init; }
    /// <summary>LoRA adapters: applied to every model, or served as models of their own over the first one.</summary>
    public IReadOnlyList<AdapterSpec> Adapters { get; init; } = [];

    public void Validate()
    {
        if (Models.Count == 0)
            throw new ArgumentException("serve needs at least one --model");
        var duplicate = Models.Select(m => m.Alias).Concat(Adapters.Where(a => a.Alias != null).Select(a => a.Alias!))
            .GroupBy(a => a, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        foreach (var a in Adapters)
            if (!Directory.Exists(a.Adapter.Path))
                throw new ArgumentException($"--lora {a.Adapter.Path}: no such adapter folder");
        if (duplicate != null)
            throw new ArgumentException($"two models are named '{duplicate.Key}'; give them different aliases with --model PATH=ALIAS");
        if (Port is < 0 or > 65535)
            throw new ArgumentException($"--port must be between 0 and 65535 (got {Port})");
        if (Parallel < 1)
            throw new ArgumentException($"--parallel must be at least 1 (got {Parallel})");
        if (ContextLength < 0)
            throw new ArgumentException($"--ctx must be positive (got {ContextLength})");
        if (Threads < 0)
            throw new ArgumentException($"--threads must be 0 (one per core) or more (got {Threads})");
        if (MaxQueue < 0)
            throw new ArgumentException($"--max-queue must be 0 or more (got {MaxQueue})");
        if (ApiKeys.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("an API key must not be empty");
        if (!Template.Equals("auto", StringComparison.OrdinalIgnoreCase))
            Tokenization.ChatTemplates.ChatTemplates.Get(Template); // throws with the list of names
    }
}
