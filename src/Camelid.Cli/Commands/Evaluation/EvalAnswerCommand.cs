using System.CommandLine;
using Camelid.Data.Teacher;
using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Questions;

namespace Camelid.Cli.Commands.Evaluation;

/// <summary>`camelid eval answer`: a model's answers to benchmark questions, written as FastChat's model_answer/{model_id}.jsonl; resumable.</summary>
static class EvalAnswerCommand
{
    public static Command Create()
    {
        var questions = new Option<string>("--questions") { Description = "Questions: FastChat question.jsonl (turns) or the 2023 Vicuna format (text)", Required = true };
        var modelUrl = new Option<string>("--model-url") { Description = "The candidate's OpenAI-compatible server, e.g. http://127.0.0.1:8080 (camelid serve) or https://api.openai.com/v1", Required = true };
        var model = new Option<string>("--model") { Description = "The model name sent in requests", Required = true };
        var modelId = new Option<string?>("--model-id") { Description = "The name answers are filed under (model_answer/ID.jsonl; default: --model)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest answer per turn, in tokens", DefaultValueFactory = _ => 1024 };
        var temperature = new Option<string[]>("--temperature")
        {
            Description = "CATEGORY=T for one category, or T for all (default: FastChat's table: writing/roleplay 0.7; extraction/math/coding/reasoning 0; stem/humanities 0.1; others 0.7)",
            AllowMultipleArgumentsPerToken = false,
        };
        var system = new Option<string?>("--system") { Description = "A system message sent first in every conversation (default: none)" };
        var output = new Option<string>("--out", "-o") { Description = "Benchmark folder: answers go to DIR/model_answer/ID.jsonl", Required = true };
        var endpoint = new EndpointOptions(modelUrl, model, "candidate model");

        var command = new Command("answer", "Answer every question (all turns, in one conversation) with a model behind an OpenAI-compatible server; rerun to resume")
        {
            questions, maxTokens, temperature, system, modelId, output,
        };
        foreach (var option in endpoint.All)
            command.Options.Add(option);
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, async () =>
        {
            var clientOptions = endpoint.Build(parse);
            string id = parse.GetValue(modelId) ?? clientOptions.Model;
            ModelAnswerFile.ValidateModelId(id);
            if (parse.GetValue(maxTokens) < 1)
                throw new ArgumentException("--max-tokens must be at least 1");
            var options = new AnswerOptions
            {
                ModelId = id,
                OutputPath = ModelAnswerFile.PathFor(parse.GetValue(output)!, id),
                MaxTokens = parse.GetValue(maxTokens),
                Temperatures = CategoryTemperatures.Parse(parse.GetValue(temperature) ?? []),
                SystemPrompt = parse.GetValue(system),
                Concurrency = clientOptions.Concurrency,
            };
            var questionList = QuestionFile.Load(parse.GetValue(questions)!);
            using var client = new OpenAiCompatibleTeacher(clientOptions);
            var generator = new AnswerGenerator(options, client);
            return await EvalRun.RunAsync("answering", generator.Progress, client, options.OutputPath,
                token => generator.RunAsync(questionList, token), summary =>
                {
                    if (summary.TornTailBytes > 0)
                        Console.Error.WriteLine($"note: cut an incomplete last line ({summary.TornTailBytes} bytes) from {summary.OutputPath}, left by an interrupted run");
                    if (summary.Truncated > 0)
                        Console.Error.WriteLine($"note: {summary.Truncated} answers were cut at --max-tokens {options.MaxTokens}");
                    Console.WriteLine($"wrote {summary.OutputPath}: {summary.Answered} questions answered" +
                                      (summary.AlreadyAnswered > 0 ? $", {summary.AlreadyAnswered} already there" : "") +
                                      $"; {client.Attempts} requests ({client.Retries} retries), {EvalRun.Tokens(summary.Usage)}");
                });
        }));
        return command;
    }
}
