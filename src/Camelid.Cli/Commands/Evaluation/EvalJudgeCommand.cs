using System.CommandLine;
using Camelid.Data.Teacher;
using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Judging;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;

namespace Camelid.Cli.Commands.Evaluation;

/// <summary>`camelid eval judge`: single grades or pairwise verdicts from an LLM judge, written as FastChat's model_judgment files; resumable.</summary>
static class EvalJudgeCommand
{
    public static Command Create()
    {
        var questions = new Option<string>("--questions") { Description = "The questions the answers are for (question.jsonl, or the 2023 Vicuna format)", Required = true };
        var answers = new Option<string>("--answers") { Description = "Benchmark folder with model_answer/*.jsonl (or that folder itself)", Required = true };
        var judgeUrl = new Option<string>("--judge-url") { Description = "The judge's OpenAI-compatible server", Required = true };
        var judgeModel = new Option<string>("--judge-model") { Description = "The judge's model name (also names the output file)", Required = true };
        var mode = new Option<string>("--mode") { Description = "single (a 1-10 grade per answer and turn), pairwise-baseline (every model against --baseline) or pairwise-all (every pair)", DefaultValueFactory = _ => "single" };
        mode.AcceptOnlyFromAmong("single", "pairwise-baseline", "pairwise-all");
        var baseline = new Option<string?>("--baseline") { Description = "pairwise-baseline: the model every other one is compared with" };
        var models = new Option<string?>("--models") { Description = "Comma-separated models to judge (default: every answer file)" };
        var references = new Option<string?>("--references") { Description = "Reference answers in model-answer format (e.g. FastChat's reference_answer/gpt-4.jsonl); the question file's \"reference\" fields are used too" };
        var referenceCategories = new Option<string>("--reference-categories") { Description = "Categories judged against the reference answer when there is one", DefaultValueFactory = _ => "math,reasoning,coding" };
        var judgePrompts = new Option<string?>("--judge-prompts") { Description = "Judge prompts in FastChat's judge_prompts.jsonl shape (default: Camelid's own)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest judgment, in tokens", DefaultValueFactory = _ => 2048 };
        var retryFailed = new Option<bool>("--retry-failed") { Description = "Judge again the judgments recorded as failed (unreadable verdicts)" };
        var output = new Option<string>("--out", "-o") { Description = "Benchmark folder: judgments go to DIR/model_judgment/{judge}_single.jsonl or {judge}_pair.jsonl", Required = true };
        var endpoint = new EndpointOptions(judgeUrl, judgeModel, "judge");

        var command = new Command("judge", "Grade answers (single) or compare them in both orders (pairwise) with an LLM judge; rerun to resume")
        {
            questions, answers, mode, baseline, models, references, referenceCategories, judgePrompts, maxTokens, retryFailed, output,
        };
        foreach (var option in endpoint.All)
            command.Options.Add(option);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            var clientOptions = endpoint.Build(parse);
            var judgeMode = parse.GetValue(mode) switch
            {
                "pairwise-baseline" => JudgeMode.PairwiseBaseline,
                "pairwise-all" => JudgeMode.PairwiseAll,
                _ => JudgeMode.Single,
            };
            if (judgeMode == JudgeMode.PairwiseBaseline && parse.GetValue(baseline) == null)
                throw new ArgumentException("--mode pairwise-baseline needs --baseline MODEL");
            if (parse.GetValue(maxTokens) < 1)
                throw new ArgumentException("--max-tokens must be at least 1");
            var kind = judgeMode == JudgeMode.Single ? JudgeKind.Single : JudgeKind.Pairwise;
            string? promptPath = parse.GetValue(judgePrompts);
            var prompts = promptPath == null ? JudgePromptSet.BuiltIn(kind) : JudgePromptSet.Load(promptPath, kind);

            var questionList = QuestionFile.Load(parse.GetValue(questions)!);
            if (parse.GetValue(references) is { } referencePath)
                questionList = QuestionFile.WithReferences(questionList, referencePath);
            var answerSets = ModelAnswerFile.LoadAll(parse.GetValue(answers)!);
            var options = new JudgeOptions
            {
                Mode = judgeMode,
                JudgeModel = clientOptions.Model,
                OutputPath = JudgmentFile.PathFor(parse.GetValue(output)!, clientOptions.Model,
                                                  judgeMode == JudgeMode.Single ? JudgmentKind.Single : JudgmentKind.Pair),
                Baseline = parse.GetValue(baseline),
                Models = parse.GetValue(models)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Prompts = prompts,
                ReferenceCategories = parse.GetValue(referenceCategories)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                           .ToHashSet(StringComparer.OrdinalIgnoreCase),
                MaxTokens = parse.GetValue(maxTokens),
                Concurrency = clientOptions.Concurrency,
                RetryFailed = parse.GetValue(retryFailed),
            };
            using var client = new OpenAiCompatibleTeacher(clientOptions);
            var run = new JudgeRun(options, client);
            return await EvalRun.RunAsync("judging", run.Progress, client, options.OutputPath,
                token => run.RunAsync(questionList, answerSets, token), summary => Report(summary, client, options));
        }));
        return command;
    }

    static void Report(JudgeSummary summary, OpenAiCompatibleTeacher client, JudgeOptions options)
    {
        if (summary.TornTailBytes > 0)
            Console.Error.WriteLine($"note: cut an incomplete last line ({summary.TornTailBytes} bytes) from {summary.OutputPath}, left by an interrupted run");
        if (summary.MissingAnswers > 0)
            Console.Error.WriteLine($"note: {summary.MissingAnswers} judgments skipped because an answer (or one of its turns) is missing");
        if (summary.NoPromptForTurn > 0)
            Console.Error.WriteLine($"note: {summary.NoPromptForTurn} judgments skipped: no judge prompt can show that turn (add a multi-turn prompt to --judge-prompts)");
        if (summary.Failed > 0)
        {
            string reasons = string.Join("; ", summary.FailureReasons.OrderByDescending(r => r.Value).Take(5).Select(r => $"{r.Key} ×{r.Value}"));
            Console.Error.WriteLine($"note: {summary.Failed} judgments failed (recorded with score -1 / winner \"error\", left out of results; --retry-failed judges them again): {reasons}");
        }
        Console.WriteLine($"wrote {summary.OutputPath}: {summary.Judged} judgments" +
                          (summary.AlreadyJudged > 0 ? $", {summary.AlreadyJudged} already there" : "") +
                          $", {summary.Failed} failed; prompts {(summary.PromptNames.Count > 0 ? string.Join(", ", summary.PromptNames) : "none used")}" +
                          $"; {client.Attempts} requests ({client.Retries} retries), {EvalRun.Tokens(summary.Usage)}");
        Console.WriteLine($"next: camelid eval show --judgments {summary.OutputPath}");
    }
}
