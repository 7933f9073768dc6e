using System.CommandLine;
using System.Text;
using Camelid.Inference.Chat;
using Camelid.Model;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Cli.Commands;

/// <summary>
/// `camelid chat`: an interactive conversation like alpaca.cpp's chat. On a terminal: a prompt, streamed
/// answers, Ctrl+C stops an answer, Ctrl+C again exits, a trailing '\' continues the input on the next line.
/// With stdin redirected: one user turn per line, plain answers, one per line (scriptable).
/// </summary>
static class ChatCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelOrNano();
        var tokenizer = CommonOptions.Tokenizer();
        var template = new Option<string>("--template") { Description = $"Chat template: auto, {string.Join(", ", ChatTemplates.Names)}", DefaultValueFactory = _ => "auto" };
        var system = new Option<string?>("--system") { Description = "System prompt (default: the template's)" };
        var count = new Option<int>("-n", "--n-predict") { Description = "Most tokens per answer", DefaultValueFactory = _ => 512 };
        var threads = CommonOptions.Threads();
        var context = CommonOptions.Context();
        var lora = CommonOptions.Lora();
        var sampling = new SamplingArguments();
        var command = new Command("chat", "Chat with a model interactively (or one turn per line from piped stdin)") { model, tokenizer, template, system, count, threads, context, lora };
        sampling.AddTo(command);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            var options = sampling.Read(parse);
            int n = parse.GetValue(count);
            if (n <= 0) throw new ArgumentException("-n must be > 0");
            using var m = LlamaModel.Load(ShippedModel.Require(parse.GetValue(model)!), new ModelLoadOptions
            {
                TokenizerPath = parse.GetValue(tokenizer), Threads = parse.GetValue(threads), Adapters = CommonOptions.Adapters(parse, lora),
            });
            var chosen = ChooseTemplate(parse.GetValue(template)!, m);
            var session = new ChatSession(m, chosen, parse.GetValue(system), CommonOptions.ContextLength(m, parse.GetValue(context)))
            {
                Sampling = options,
                MaxAnswerTokens = n,
            };
            session.HistoryTruncated += dropped =>
                Console.Error.WriteLine($"(the conversation is longer than the context of {session.ContextLength} tokens: the oldest {dropped} messages were dropped)");
            await RunLoopAsync(session);
            return 0;
        }));
        return command;
    }

    static ChatTemplate ChooseTemplate(string name, LlamaModel model)
    {
        if (!name.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return ChatTemplates.Get(name);
        var choice = ChatTemplates.Detect(model.ChatTemplateSource, model.Name);
        Console.Error.WriteLine(choice.IsFallback
            ? choice.Reason
            : $"chat template: {choice.Template.Name} ({choice.Reason})");
        return choice.Template;
    }

    static async Task RunLoopAsync(ChatSession session)
    {
        bool interactive = !Console.IsInputRedirected;
        using var stdout = CommonOptions.StandardOutput();
        var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        CancellationTokenSource? answering = null;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C stops the answer being written; Ctrl+C at the prompt (or a second one) exits.
            var current = answering;
            if (current != null && !current.IsCancellationRequested)
            {
                e.Cancel = true;
                current.Cancel();
            }
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (interactive)
                Console.Error.WriteLine("Type a message and press Enter. End a line with \\ to continue it, /reset to start over, /exit to quit. Ctrl+C stops an answer.");
            while (true)
            {
                if (interactive) { stdout.Write("> "); stdout.Flush(); }
                string? input = await ReadTurnAsync(stdin);
                if (input == null) break;
                string command = input.Trim();
                if (command is "/exit" or "/quit") break;
                if (command == "/reset")
                {
                    session.Reset();
                    Console.Error.WriteLine("(conversation reset)");
                    continue;
                }
                if (command.Length == 0) continue;

                answering = new CancellationTokenSource();
                try
                {
                    await foreach (var update in session.ReplyAsync(input, answering.Token))
                    {
                        stdout.Write(update.Text);
                        stdout.Flush();
                        if (update.Summary?.FinishReason == Inference.Generation.FinishReason.Cancelled)
                            Console.Error.Write(" [stopped]");
                    }
                }
                catch (ContextOverflowException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                }
                finally
                {
                    answering.Dispose();
                    answering = null;
                }
                stdout.WriteLine();
                stdout.Flush();
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>One user turn: a line, or several joined while each ends with a backslash.</summary>
    static async Task<string?> ReadTurnAsync(TextReader stdin)
    {
        string? line = await stdin.ReadLineAsync();
        if (line == null) return null;
        var text = new StringBuilder();
        while (line != null && line.EndsWith('\\'))
        {
            text.Append(line, 0, line.Length - 1).Append('\n');
            line = await stdin.ReadLineAsync();
        }
        return text.Append(line).ToString();
    }
}
