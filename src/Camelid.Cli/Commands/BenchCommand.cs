using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Camelid.Inference.Benchmarking;

namespace Camelid.Cli.Commands;

/// <summary>
/// `camelid bench --model MODEL [-p 512] [-n 128] [-t 1,2] [-r 5] [--json]`: llama-bench's prompt-processing
/// and generation tests (see <see cref="ModelBenchmark"/>); `camelid bench --machine`: this machine's limits.
/// Tables or JSON on stdout, progress on stderr.
/// </summary>
static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Model: a .gguf file, a llama2.c .bin checkpoint, or a Hugging Face model folder" };
        var tokenizer = CommonOptions.Tokenizer();
        var prompt = new Option<string>("-p", "--n-prompt") { Description = "Prompt lengths, comma-separated (0: no prompt test)", DefaultValueFactory = _ => "512" };
        var generate = new Option<string>("-n", "--n-gen") { Description = "Generation lengths, comma-separated (0: no generation test)", DefaultValueFactory = _ => "128" };
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts, comma-separated (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Timed repetitions of each test, after one warm-up", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print only JSON: an array with one object per test and thread count (or, with --machine, one object)" };
        var machine = new Option<bool>("--machine") { Description = "Measure this machine's memory bandwidth and peak fp32/int8 rates instead of a model" };
        // Hidden: a smaller buffer and shorter compute runs, so tests can run --machine quickly.
        var machineBytes = new Option<long>("--machine-bytes") { Hidden = true, DefaultValueFactory = _ => new MachineProbeOptions().BufferBytes };
        var machineRunMs = new Option<int>("--machine-run-ms") { Hidden = true, DefaultValueFactory = _ => (int)new MachineProbeOptions().ComputeRunTime.TotalMilliseconds };
        var command = new Command("bench", "Measure prompt processing and generation speed (llama-bench), or the machine's limits")
        {
            model, tokenizer, prompt, generate, threads, repetitions, json, machine, machineBytes, machineRunMs,
        };
        command.SetAction((parse, cancellation) => CommonOptions.RunAsync(parse, () =>
        {
            var threadCounts = ParseList(parse.GetValue(threads)!, "-t", 1, "thread counts");
            using var stdout = CommonOptions.StandardOutput();
            if (parse.GetValue(machine))
            {
                if (parse.GetValue(model) != null)
                    throw new ArgumentException("give either --model or --machine, not both");
                var probe = new MachineProbeOptions
                {
                    BufferBytes = parse.GetValue(machineBytes),
                    ComputeRunTime = TimeSpan.FromMilliseconds(parse.GetValue(machineRunMs)),
                    Threads = threadCounts.Max(),
                };
                var profile = MachineProbe.Measure(probe, Progress);
                stdout.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(profile, BenchmarkReport.Json) : BenchmarkReport.MachineTable(profile));
                return Task.FromResult(0);
            }

            var options = new ModelBenchmarkOptions
            {
                PromptLengths = ParseList(parse.GetValue(prompt)!, "-p", 0, "prompt lengths"),
                GenerationLengths = ParseList(parse.GetValue(generate)!, "-n", 0, "generation lengths"),
                Threads = threadCounts,
                Repetitions = parse.GetValue(repetitions),
                TokenizerPath = parse.GetValue(tokenizer),
            };
            options.Validate();
            string path = parse.GetValue(model) ?? throw new ArgumentException("give --model MODEL to benchmark a model, or --machine");
            var results = new List<ModelBenchmarkResult>();
            foreach (var result in ModelBenchmark.Run(path, options, Progress, cancellation))
            {
                results.Add(result);
                if (parse.GetValue(json))
                    continue;
                if (results.Count == 1) // the header waits for the first row, so a model that fails to load prints nothing here
                    stdout.WriteLine(BenchmarkReport.ModelTableHeader());
                stdout.WriteLine(BenchmarkReport.ModelTableRow(result));
                stdout.Flush();
            }
            if (parse.GetValue(json))
                stdout.WriteLine(JsonSerializer.Serialize(results, BenchmarkReport.Json));
            return Task.FromResult(0);
        }));
        return command;
    }

    static void Progress(string message) => Console.Error.WriteLine($"bench: {message}");

    /// <summary>"1,2,4" → [1, 2, 4]; anything else is a one-line error naming the flag.</summary>
    static int[] ParseList(string text, string flag, int minimum, string what)
    {
        var values = new List<int>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
                throw new ArgumentException($"{flag}: '{item}' is not a whole number; give a comma-separated list such as {(minimum > 0 ? "1,2,4" : "128,512")}");
            if (value < minimum)
                throw new ArgumentException($"{flag}: {what} must be {minimum} or more, got {value}");
            values.Add(value);
        }
        return values.ToArray();
    }
}
