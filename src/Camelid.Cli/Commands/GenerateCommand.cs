using System.CommandLine;
using Camelid.Inference.Generation;
using Camelid.Model;

namespace Camelid.Cli.Commands;

/// <summary>`camelid generate`: stream a continuation of a prompt to stdout, statistics to stderr.</summary>
static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelOrNano();
        var tokenizer = CommonOptions.Tokenizer();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Text to continue (default: empty, i.e. BOS only)" };
        var count = new Option<int>("-n", "--n-predict") { Description = "Tokens to generate", DefaultValueFactory = _ => 256 };
        var threads = CommonOptions.Threads();
        var context = CommonOptions.Context();
        var lora = CommonOptions.Lora();
        var sampling = new SamplingArguments();
        var command = new Command("generate", "Generate text from a prompt, streaming it to stdout") { model, tokenizer, prompt, count, threads, context, lora };
        sampling.AddTo(command);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            var options = sampling.Read(parse);
            int n = parse.GetValue(count);
            if (n < 0) throw new ArgumentException("-n must be >= 0");
            using var m = LlamaModel.Load(ShippedModel.Require(parse.GetValue(model)!), new ModelLoadOptions
            {
                TokenizerPath = parse.GetValue(tokenizer), Threads = parse.GetValue(threads), Adapters = CommonOptions.Adapters(parse, lora),
            });
            var tok = m.RequireTokenizer();
            string text = parse.GetValue(prompt) ?? "";
            int[] promptTokens = text.Length == 0 ? [tok.BosId] : tok.Encode(text, addBos: tok.AddBosByDefault);
            if (promptTokens.Length == 0) promptTokens = [tok.BosId];
            int ctx = CommonOptions.ContextLength(m, parse.GetValue(context));
            if (promptTokens.Length >= ctx)
                throw new ContextOverflowException(promptTokens.Length + 1, ctx);
            var cache = m.NewKvCache(Math.Min(ctx, promptTokens.Length + n + 1));

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                using var stdout = CommonOptions.StandardOutput();
                var request = new GenerationRequest { PromptTokens = promptTokens, MaxTokens = n, Sampling = options };
                GenerationSummary? summary = null;
                await foreach (var update in new Generator(m).GenerateAsync(request, cache, cancel.Token))
                {
                    stdout.Write(update.Text);
                    stdout.Flush();
                    summary ??= update.Summary;
                }
                if (!Console.IsOutputRedirected)
                    stdout.WriteLine();
                stdout.Flush();
                PrintStatistics(summary!, m.Threads);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return 0;
        }));
        return command;
    }

    static void PrintStatistics(GenerationSummary s, int threads)
    {
        Console.Error.WriteLine();
        Console.Error.WriteLine($"prompt:     {s.PromptTokens} tokens in {s.PromptTime.TotalMilliseconds:F0} ms ({s.PromptTokensPerSecond:F1} tokens/s)");
        Console.Error.WriteLine($"generation: {s.GeneratedTokens} tokens in {s.GenerationTime.TotalMilliseconds:F0} ms ({s.GenerationTokensPerSecond:F1} tokens/s), {threads} threads, stopped: {s.FinishReason}");
    }
}
