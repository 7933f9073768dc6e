using System.CommandLine;
using Camelid.Server.Hosting;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Cli.Commands;

/// <summary>`camelid serve`: the OpenAI-compatible API and web chat UI until Ctrl+C.</summary>
static class ServeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model", "-m")
        {
            Description = "Model to serve, as PATH or PATH=ALIAS (repeatable; requests choose one by its alias in \"model\"; default: the shipped Camelid-Nano)",
            AllowMultipleArgumentsPerToken = false,
        };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port)", DefaultValueFactory = _ => 8080 };
        var keys = new Option<string[]>("--api-key") { Description = "Require this key as 'Authorization: Bearer KEY' (repeatable; default: $CAMELID_API_KEY, else open)" };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Sequences generated at once per model (continuous batching); each gets the full --ctx", DefaultValueFactory = _ => 4 };
        var context = CommonOptions.Context();
        var threads = new Option<int>("--threads", "-t") { Description = "Compute threads per model (default: one per core)" };
        var maxQueue = new Option<int>("--max-queue") { Description = "Requests that may wait when every sequence is busy; beyond, 429", DefaultValueFactory = _ => 64 };
        var template = new Option<string>("--template") { Description = $"Chat template: auto, {string.Join(", ", ChatTemplates.Names)}", DefaultValueFactory = _ => "auto" };
        var tokenizer = CommonOptions.Tokenizer();
        var lora = new Option<string[]>("--lora")
        {
            Description = "A LoRA adapter (PEFT folder) applied on the fly: DIR[:SCALE] applies it to every model; DIR[:SCALE]=ALIAS serves the " +
                          "first --model with this adapter as another model named ALIAS, sharing the base's weights (repeatable)",
        };
        var command = new Command("serve", "Serve models over an OpenAI-compatible HTTP API with a web chat UI")
        {
            models, host, port, keys, parallel, context, threads, maxQueue, template, tokenizer, lora,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            var apiKeys = parse.GetValue(keys) is { Length: > 0 } given ? given
                : Environment.GetEnvironmentVariable("CAMELID_API_KEY") is { Length: > 0 } fromEnv ? [fromEnv] : [];
            var options = new ServeOptions
            {
                Models = parse.GetValue(models) is { Length: > 0 } named ? named.Select(ModelSpec.Parse).ToList()
                    : [new ModelSpec(ShippedModel.Require(ShippedModel.Path), "camelid-nano")],
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiKeys = apiKeys,
                Parallel = parse.GetValue(parallel),
                ContextLength = parse.GetValue(context),
                Threads = parse.GetValue(threads),
                MaxQueue = parse.GetValue(maxQueue),
                Template = parse.GetValue(template)!,
                TokenizerPath = parse.GetValue(tokenizer),
                Adapters = (parse.GetValue(lora) ?? []).Select(AdapterSpec.Parse).ToList(),
            };
            foreach (var m in options.Models)
                if (!File.Exists(m.Path) && !Directory.Exists(m.Path))
                    throw new FileNotFoundException($"{m.Path}: no such model file or folder");

            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // SIGTERM (a service manager stopping us) shuts down as cleanly as Ctrl+C.
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                await using var server = await CamelidServer.StartAsync(options, line => Console.Out.WriteLine(line), stop.Token);
                if (apiKeys.Length > 0)
                    Console.Out.WriteLine($"API keys required: {apiKeys.Length}");
                try
                {
                    await server.Loaded.WaitAsync(stop.Token);
                    Console.Out.WriteLine("ready");
                }
                catch (OperationCanceledException) { }
                await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                Console.Out.WriteLine("shutting down");
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return 0;
        }));
        return command;
    }
}
