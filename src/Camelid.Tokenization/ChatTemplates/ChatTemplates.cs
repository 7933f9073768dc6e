namespace Camelid.Tokenization.ChatTemplates;

/// <summary>How a template was chosen. <see cref="IsFallback"/> means nothing matched and <see cref="Reason"/> is a warning.</summary>
public sealed record TemplateChoice(ChatTemplate Template, string Reason, bool IsFallback);

/// <summary>The built-in chat templates, looked up by name or recognised from a model.</summary>
public static class ChatTemplates
{
    static readonly ChatTemplate[] all =
    [
        ColonTwoTemplate.Alpaca,
        ColonTwoTemplate.Vicuna,
        ColonTwoTemplate.Koala,
        new Llama2Template(),
        new Llama3Template(),
        new ChatMlTemplate(),
        new ZephyrTemplate(),
    ];

    // FastChat's registry names and the spellings people type; FastChat registers TinyLlama's format
    // as its own template "TinyLlama", identical to "zephyr".
    static readonly (string Alias, string Name)[] aliases =
    [
        ("vicuna_v1.1", "vicuna"), ("vicuna-v1.1", "vicuna"),
        ("koala_v1", "koala"), ("koala-v1", "koala"),
        ("llama2", "llama-2"), ("llama-2-chat", "llama-2"), ("llama2-chat", "llama-2"),
        ("llama3", "llama-3"), ("llama-3-instruct", "llama-3"), ("llama3-instruct", "llama-3"),
        ("tinyllama", "zephyr"),
    ];

    static readonly Dictionary<string, ChatTemplate> byName = BuildLookup();

    public static IReadOnlyList<string> Names { get; } = all.Select(t => t.Name).ToArray();

    /// <summary>The template called <paramref name="name"/> (case-insensitive; FastChat names such as "vicuna_v1.1" work too).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static ChatTemplate Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (byName.TryGetValue(name.Trim(), out var template))
            return template;
        throw new ArgumentException(
            $"Unknown chat template '{name}'. Known templates: {string.Join(", ", Names)} " +
            $"(also accepted: {string.Join(", ", aliases.Select(a => a.Alias))}).",
            nameof(name));
    }

    /// <summary>
    /// Recognises the template from a model's Jinja chat template (GGUF tokenizer.chat_template or
    /// HF tokenizer_config.json chat_template), else from its name (general.name or folder name).
    /// When neither matches, returns vicuna with <see cref="TemplateChoice.IsFallback"/> set and a warning.
    /// </summary>
    public static TemplateChoice Detect(string? jinjaTemplate, string? modelName) =>
        TemplateDetector.Detect(jinjaTemplate, modelName);

    static Dictionary<string, ChatTemplate> BuildLookup()
    {
        var lookup = new Dictionary<string, ChatTemplate>(StringComparer.OrdinalIgnoreCase);
        foreach (var template in all)
            lookup.Add(template.Name, template);
        foreach (var (alias, name) in aliases)
            lookup.Add(alias, lookup[name]);
        return lookup;
    }
}
