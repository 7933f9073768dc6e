namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// Recognises a prompt format without running Jinja: each family's chat template contains text
/// that no other family's does (the approach of llama.cpp's llm_chat_detect_template). The model's
/// own chat_template is trusted first, its name second, and vicuna (FastChat's default
/// conversation format) is the announced fallback.
/// </summary>
internal static class TemplateDetector
{
    const string FallbackName = "vicuna";

    /// <summary>A template is recognised when the Jinja source contains all of <paramref name="AllOf"/> and none of <paramref name="NoneOf"/>.</summary>
    sealed record JinjaRule(string Template, string[] AllOf, string[] NoneOf, string Note = "");

    // Order matters: more specific markers first.
    static readonly JinjaRule[] jinjaRules =
    [
        new("llama-3", ["<|start_header_id|>", "<|end_header_id|>"], []),
        new("chatml", ["<|im_start|>"], []),
        // Phi-3 uses the same role tags but closes turns with <|end|>, not eos_token.
        new("zephyr", ["<|user|>", "<|assistant|>"], ["<|end|>"]),
        new("llama-2", ["[INST]", "<<SYS>>"], []),
        new("llama-2", ["[INST]"], [],
            " (no <<SYS>> block: a Mistral-style [INST] format; llama-2 is the closest built-in template, " +
            "the spacing around [/INST] and the system prompt handling may differ)"),
        new("koala", ["USER:", "GPT:"], []),
        new("vicuna", ["USER:", "ASSISTANT:"], []),
        new("alpaca", ["### Instruction", "### Response"], []),
    ];

    // Matched against the lower-cased name with '_' and ' ' turned into '-'. A GGUF of an older
    // TinyLlama-Chat preview (ChatML) carries its own chat_template, which is checked first.
    static readonly (string Template, string[] AllOf)[] nameRules =
    [
        ("vicuna", ["vicuna"]),
        ("koala", ["koala"]),
        ("alpaca", ["alpaca"]),
        ("zephyr", ["zephyr"]),
        ("zephyr", ["tinyllama", "chat"]),
        ("llama-3", ["llama-3"]),
        ("llama-3", ["llama3"]),
        ("llama-2", ["llama-2"]),
        ("llama-2", ["llama2"]),
        ("chatml", ["chatml"]),
        ("chatml", ["openhermes"]),
        ("chatml", ["qwen"]),
        ("chatml", ["dolphin"]),
    ];

    public static TemplateChoice Detect(string? jinjaTemplate, string? modelName)
    {
        var hasJinja = !string.IsNullOrWhiteSpace(jinjaTemplate);
        if (hasJinja)
        {
            foreach (var rule in jinjaRules)
            {
                if (rule.AllOf.All(m => jinjaTemplate!.Contains(m, StringComparison.Ordinal)) &&
                    !rule.NoneOf.Any(m => jinjaTemplate!.Contains(m, StringComparison.Ordinal)))
                {
                    return new TemplateChoice(
                        ChatTemplates.Get(rule.Template),
                        $"chat_template contains {string.Join(" and ", rule.AllOf.Select(m => $"\"{m}\""))}: {rule.Template}{rule.Note}",
                        IsFallback: false);
                }
            }
        }

        var jinjaSummary = hasJinja
            ? "chat_template not recognised (it has none of the markers of " + string.Join(", ", ChatTemplates.Names) + ")"
            : "no chat_template in the model";

        if (!string.IsNullOrWhiteSpace(modelName))
        {
            var normalized = modelName.Trim().ToLowerInvariant().Replace('_', '-').Replace(' ', '-');
            foreach (var (template, allOf) in nameRules)
            {
                if (allOf.All(part => normalized.Contains(part, StringComparison.Ordinal)))
                {
                    var parts = string.Join(" and ", allOf.Select(p => $"'{p}'"));
                    return new TemplateChoice(
                        ChatTemplates.Get(template),
                        $"model name '{modelName.Trim()}' contains {parts}: {template} ({jinjaSummary})",
                        IsFallback: false);
                }
            }
        }

        var nameSummary = string.IsNullOrWhiteSpace(modelName)
            ? "no model name"
            : $"the model name '{modelName.Trim()}' matches no known template";
        return new TemplateChoice(
            ChatTemplates.Get(FallbackName),
            $"warning: {jinjaSummary} and {nameSummary}; falling back to {FallbackName}. " +
            $"If the model was trained on another prompt format, choose it explicitly ({string.Join(", ", ChatTemplates.Names)}).",
            IsFallback: true);
    }
}
