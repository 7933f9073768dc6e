using System.CommandLine;
using Camelid.Data.Formats;
using Camelid.Data.Instructions;
using Camelid.Data.Teacher;

namespace Camelid.Cli.Commands.Data;

/// <summary>
/// `camelid data self-instruct`: instruction data from seed tasks and an OpenAI-compatible teacher, in Alpaca's
/// or Self-Instruct's way; resumable (rerun the same command), with a drop report. See docs/data-generation.md.
/// </summary>
static class SelfInstructCommand
{
    public static Command Create()
    {
        var seedTasks = new Option<string>("--seed-tasks") { Description = "Seed tasks: Self-Instruct's seed_tasks.jsonl, or Alpaca records", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output file: Alpaca JSON (.json) or JSON lines (.jsonl)", Required = true };
        var count = new Option<int>("--num", "-n") { Description = "alpaca: records to keep; self-instruct: instructions to generate (up to 5 instances each)", Required = true };
        var teacherUrl = new Option<string>("--teacher-url") { Description = "OpenAI-compatible server, e.g. http://127.0.0.1:8080 or https://api.openai.com/v1", Required = true };
        var teacherModel = new Option<string>("--teacher-model") { Description = "The teacher's model name", Required = true };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer token for the teacher (default: $OPENAI_API_KEY)" };
        var mode = new Option<string>("--mode") { Description = "alpaca (one prompt, 20 tasks per answer) or self-instruct (the paper's four stages)", DefaultValueFactory = _ => "alpaca" };
        mode.AcceptOnlyFromAmong("alpaca", "self-instruct");
        var endpoint = new Option<string>("--endpoint") { Description = "chat (/v1/chat/completions) or completions (/v1/completions, for base models)", DefaultValueFactory = _ => "chat" };
        endpoint.AcceptOnlyFromAmong("chat", "completions");
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once", DefaultValueFactory = _ => 4 };
        var rpm = new Option<double>("--requests-per-minute") { Description = "Request rate limit, retries included (default 0: none)" };
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature (default 1.0 for alpaca, 0.7 for self-instruct, as the originals)" };
        var topP = new Option<double?>("--top-p") { Description = "Nucleus sampling (default 1.0 for alpaca, 0.5 for self-instruct)" };
        var promptInstructions = new Option<int?>("--prompt-instructions") { Description = "In-context tasks per prompt (default 3 for alpaca, 8 for self-instruct)" };
        var batch = new Option<int>("--batch") { Description = "Prompts per request group", DefaultValueFactory = _ => 5 };
        var threshold = new Option<double>("--rouge-threshold") { Description = "Drop a candidate whose ROUGE-L F-measure against a kept instruction is above this", DefaultValueFactory = _ => 0.7 };
        var seed = new Option<long>("--seed") { Description = "Random seed for the prompts' examples", DefaultValueFactory = _ => 42 };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Longest answer (default 3072 for alpaca, 1024 for self-instruct's first stage)" };
        var promptFile = new Option<string?>("--prompt-file") { Description = "alpaca: the requirements text that starts each prompt (e.g. Alpaca's prompt.txt; default: Camelid's own)" };
        var format = new Option<string?>("--format") { Description = "json or jsonl (default: from the --out extension)" };
        format.AcceptOnlyFromAmong("json", "jsonl");
        var dropReport = new Option<string?>("--drop-report") { Description = "Where the drop report goes (default: OUT.dropped.json)" };
        var timeout = new Option<double>("--request-timeout") { Description = "Seconds allowed for one request", DefaultValueFactory = _ => 120 };
        var retries = new Option<int>("--max-retries") { Description = "Retries of a failed request (429, 5xx, timeouts, broken answers)", DefaultValueFactory = _ => 6 };
        var retryDelay = new Option<double>("--retry-delay") { Description = "First retry's delay in seconds, doubled each time (with jitter) up to 60 s", DefaultValueFactory = _ => 1 };

        var command = new Command("self-instruct", "Generate instruction data with a teacher model (Alpaca / Self-Instruct); rerun the same command to resume")
        {
            seedTasks, output, count, teacherUrl, teacherModel, apiKey, mode, endpoint, concurrency, rpm, temperature, topP,
            promptInstructions, batch, threshold, seed, maxTokens, promptFile, format, dropReport, timeout, retries, retryDelay,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            if (!Uri.TryCreate(parse.GetValue(teacherUrl), UriKind.Absolute, out var url))
                throw new ArgumentException($"--teacher-url '{parse.GetValue(teacherUrl)}' is not a URL");
            double retryDelaySeconds = parse.GetValue(retryDelay);
            if (retryDelaySeconds < 0 || parse.GetValue(timeout) <= 0)
                throw new ArgumentException("--retry-delay must be 0 or more and --request-timeout positive");
            var teacherOptions = new TeacherOptions
            {
                BaseUrl = url,
                Model = parse.GetValue(teacherModel)!,
                ApiKey = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
                Endpoint = parse.GetValue(endpoint) == "completions" ? TeacherEndpoint.Completions : TeacherEndpoint.Chat,
                Concurrency = parse.GetValue(concurrency),
                RequestsPerMinute = parse.GetValue(rpm),
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                MaxRetries = parse.GetValue(retries),
                RetryBaseDelay = TimeSpan.FromSeconds(retryDelaySeconds),
                RetryMaxDelay = TimeSpan.FromSeconds(Math.Max(60, retryDelaySeconds)),
            };
            teacherOptions.Validate();
            string? promptPath = parse.GetValue(promptFile);
            var options = new SelfInstructOptions
            {
                Mode = parse.GetValue(mode) == "self-instruct" ? GenerationMode.SelfInstruct : GenerationMode.Alpaca,
                Count = parse.GetValue(count),
                TeacherModel = teacherOptions.Model,
                Endpoint = teacherOptions.Endpoint,
                Concurrency = teacherOptions.Concurrency,
                Seed = parse.GetValue(seed),
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                PromptInstructions = parse.GetValue(promptInstructions),
                MaxTokens = parse.GetValue(maxTokens),
                Batch = parse.GetValue(batch),
                RougeThreshold = parse.GetValue(threshold),
                PromptTemplate = promptPath == null ? null : File.ReadAllText(promptPath),
                OutputPath = parse.GetValue(output)!,
                OutputLayout = parse.GetValue(format) switch { "json" => DataFileLayout.JsonArray, "jsonl" => DataFileLayout.JsonLines, _ => null },
                DropReportPath = parse.GetValue(dropReport),
            };
            var seeds = SeedTasks.Load(parse.GetValue(seedTasks)!);
            using var teacher = new OpenAiCompatibleTeacher(teacherOptions);
            var generator = new SelfInstructGenerator(options, seeds, teacher);
            return await RunAsync(generator, teacher, options);
        }));
        return command;
    }

    static async Task<int> RunAsync(SelfInstructGenerator generator, OpenAiCompatibleTeacher teacher, SelfInstructOptions options)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var progress = new PeriodicProgressLine(elapsed =>
        {
            var p = generator.Progress;
            return $"{p.Stage} {PeriodicProgressLine.Bar(p.Target > 0 ? (double)p.Done / p.Target : 0)} {p.Done}/{p.Target}  " +
                   $"records {p.Records}  dropped {p.Dropped}  requests {teacher.Attempts} (retries {teacher.Retries})  " +
                   $"tokens {Tokens(p.Usage.TotalTokens)}  {elapsed:hh\\:mm\\:ss}";
        });
        try
        {
            var summary = await generator.RunAsync(cancellation: cancel.Token);
            progress.Stop();
            var p = summary.Progress;
            if (summary.RepairedBytes > 0)
                Console.Error.WriteLine($"note: cut a partial last line ({summary.RepairedBytes} bytes) from {summary.JournalPath}, left by an interrupted run");
            Console.WriteLine($"wrote {summary.OutputPath}: {p.Records} records; {p.Dropped} candidates dropped (see {summary.DropReportPath}); " +
                              $"{p.Answers} teacher answers, {p.Usage.TotalTokens:N0} tokens ({p.Usage.PromptTokens:N0} prompt, {p.Usage.CompletionTokens:N0} completion)" +
                              (summary.ResumedUnits > 0 ? $"; resumed after {summary.ResumedUnits} finished request groups" : ""));
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            progress.Stop();
            Console.Error.WriteLine($"interrupted: {generator.Progress.Records} records so far are in {options.OutputPath}; rerun the same command to continue");
            return 130;
        }
        catch (TeacherException e)
        {
            progress.Stop();
            throw new TeacherException($"{e.Message}; finished requests are kept in {options.ResolvedJournalPath}: rerun the same command to continue", e);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    static string Tokens(long n) => n >= 1_000_000 ? $"{n / 1e6:0.0}M" : n >= 1_000 ? $"{n / 1e3:0.0}k" : n.ToString();
}
