using System.CommandLine;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Cli.Commands.Data;

/// <summary>Options shared by the conversation commands (split-long, stats).</summary>
static class DataOptions
{
    public static Option<string?> Model() => new("--model", "-m")
    {
        Description = "Count tokens with this model's tokenizer: a .gguf file, a llama2.c .bin checkpoint, or a Hugging Face model folder",
    };

    public static Option<string?> Tokenizer() => new("--tokenizer")
    {
        Description = "Count tokens with this tokenizer file (tokenizer.model, tokenizer.json, a vocabulary .gguf, tokenizer.bin), or the one a llama2.c --model needs",
    };

    public static Option<string> Template(string defaultName) => new("--template")
    {
        Description = $"Chat template whose tokens are counted around each turn: {string.Join(", ", ChatTemplates.Names)}, or none",
        DefaultValueFactory = _ => defaultName,
    };
}
