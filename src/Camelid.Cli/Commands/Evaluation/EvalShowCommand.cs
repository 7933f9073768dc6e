using System.CommandLine;
using System.Text;
using Camelid.Evaluation.Judging;
using Camelid.Evaluation.Reports;

namespace Camelid.Cli.Commands.Evaluation;

/// <summary>`camelid eval show`: scores, win rates, relative score, Elo and Bradley–Terry from judgment files, as a table, Markdown, JSON or an HTML report.</summary>
static class EvalShowCommand
{
    public static Command Create()
    {
        var judgments = new Option<string>("--judgments") { Description = "A judgment file ({judge}_single.jsonl / {judge}_pair.jsonl) or a benchmark folder", Required = true };
        var mode = new Option<string?>("--mode") { Description = "single, pairwise-baseline or pairwise-all (default: what the files hold; pairwise as pairwise-all)" };
        mode.AcceptOnlyFromAmong("single", "pairwise-baseline", "pairwise-all");
        var questions = new Option<string?>("--questions") { Description = "Question file, for scores per category (default: question.jsonl beside model_judgment/)" };
        var baseline = new Option<string?>("--baseline") { Description = "single: relative scores against this model (Vicuna's); pairwise-baseline: the baseline (default: the model in every pair)" };
        var format = new Option<string>("--format") { Description = "table, markdown, json (only JSON on stdout) or html (a report with charts)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "markdown", "json", "html");
        var output = new Option<string?>("--out", "-o") { Description = "Write the report to this file instead of stdout" };
        var rounds = new Option<int>("--bootstrap-rounds") { Description = "Bootstrap rounds for the Elo intervals", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the bootstrap (the same seed gives the same intervals)", DefaultValueFactory = _ => 42 };

        var command = new Command("show", "Show results: mean scores per turn and category, win rates, relative score, Elo with bootstrap intervals")
        {
            judgments, mode, questions, baseline, format, output, rounds, seed,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            if (parse.GetValue(rounds) < 1)
                throw new ArgumentException("--bootstrap-rounds must be at least 1");
            var report = ReportBuilder.Build(new ShowOptions
            {
                Judgments = parse.GetValue(judgments)!,
                Mode = parse.GetValue(mode) switch
                {
                    "single" => JudgeMode.Single,
                    "pairwise-baseline" => JudgeMode.PairwiseBaseline,
                    "pairwise-all" => JudgeMode.PairwiseAll,
                    _ => null,
                },
                Questions = parse.GetValue(questions),
                Baseline = parse.GetValue(baseline),
                Elo = new EloOptions { BootstrapRounds = parse.GetValue(rounds), Seed = parse.GetValue(seed) },
            });
            string text = parse.GetValue(format) switch
            {
                "markdown" => ReportTables.RenderMarkdown(report),
                "json" => ReportJson.Render(report) + "\n",
                "html" => HtmlReport.Render(report),
                _ => ReportTables.RenderText(report),
            };
            if (parse.GetValue(output) is { } path)
            {
                string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
                if (directory != null)
                    Directory.CreateDirectory(directory);
                await File.WriteAllTextAsync(path, text, new UTF8Encoding(false));
                Console.Error.WriteLine($"wrote {path}");
            }
            else
            {
                await using var stdout = CommonOptions.StandardOutput();
                await stdout.WriteAsync(text);
                await stdout.FlushAsync();
            }
            return 0;
        }));
        return command;
    }
}
