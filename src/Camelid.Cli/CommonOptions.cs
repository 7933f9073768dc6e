using System.CommandLine;
using System.Text;
using Camelid.Formats;
using Camelid.Model;
using Camelid.Tokenization;

namespace Camelid.Cli;

/// <summary>Options shared by several commands, and the one place that turns failures into exit codes.</summary>
static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces and extra diagnostics",
        Recursive = true,
    };

    public static Option<string> Model() => new("--model", "-m")
    {
        Description = "Model: a .gguf file, a llama2.c .bin checkpoint, or a Hugging Face model folder",
        Required = true,
    };

    /// <summary>
    /// The model of the commands that run a model (generate, chat, serve): optional, Camelid-Nano (shipped with Camelid)
    /// when not given.
    /// </summary>
    public static Option<string> ModelOrNano() => new("--model", "-m")
    {
        Description = "Model: a .gguf file, a llama2.c .bin checkpoint, or a Hugging Face model folder (default: the shipped Camelid-Nano)",
        DefaultValueFactory = _ => ShippedModel.Path,
    };

    public static Option<string?> Tokenizer() => new("--tokenizer")
    {
        Description = "Tokenizer file for llama2.c checkpoints (tokenizer.bin or a SentencePiece tokenizer.model)",
    };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Compute threads (default: one per core)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<string[]> Lora() => new("--lora")
    {
        Description = "A LoRA adapter (PEFT folder) applied on the fly, optionally with a scale: DIR or DIR:SCALE (repeatable)",
    };

    public static IReadOnlyList<AdapterReference> Adapters(ParseResult parse, Option<string[]> lora) =>
        (parse.GetValue(lora) ?? []).Select(ParseAdapter).ToList();

    static AdapterReference ParseAdapter(string text)
    {
        try
        {
            return AdapterReference.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"--lora {text}: {e.Message}");
        }
    }

    public static Option<int> Context() => new("--ctx", "-c")
    {
        Description = "Context length in tokens (default: the model's, at most 2048)",
    };

    /// <summary>UTF-8 stdout without a BOM, flushed by the caller as tokens stream.</summary>
    public static TextWriter StandardOutput() => new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };

    public static int ContextLength(LlamaModel model, int requested) =>
        requested > 0 ? requested : Math.Min(model.Config.TrainedContextLength, 2048);

    /// <summary>Runs a command body; known failures become one clear line on stderr and exit code 1.</summary>
    public static async Task<int> RunAsync(ParseResult parse, Func<Task<int>> body)
    {
        bool verbose = parse.GetValue(Verbose);
        try
        {
            return await body();
        }
        catch (Exception e) when (e is ModelFormatException or TokenizerException or ContextOverflowException
                                       or ArgumentException or IOException or UnauthorizedAccessException or NotSupportedException
                                       or DecoderFallbackException or Camelid.Training.TrainingDivergedException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message}");
            Console.Error.WriteLine(verbose ? e.ToString() : "(run with --verbose for details, and please report it)");
            return 2;
        }
    }
}
