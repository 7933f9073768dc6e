using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Camelid.Cli.Tests;
using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;
using Camelid.Server.Hosting;
using Camelid.Tests;

namespace Camelid.Evaluation.Tests;

/// <summary>
/// The candidate is a real <c>camelid serve</c> (in this process, on a free loopback port) serving llama2.c's
/// stories260K; `camelid eval answer | judge | show` run as child processes against it and the scripted judge.
/// The tiny model's text is unknown in advance, so the checks are what must hold for any model: every turn
/// answered with text, greedy categories reproducible, costs counted, and every judgment and summary number
/// traceable to the answers the model wrote.
/// </summary>
public class ServeEndToEndTests
{
    const string Stories = "models/stories260K.gguf";
    const string Vicuna = "eval/vicuna80/question.jsonl";
    const int MaxTokens = 24;
    static readonly string[] Fast = ["--retry-delay", "0.01", "--request-timeout", "60", "--max-retries", "1"];

    static void Succeeds(CliResult result) =>
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\nstdout: {result.StandardOutput}\nstderr: {result.StandardError}");

    /// <summary>The first Vicuna-80 question of each category, and two two-turn questions (one with a reference answer).</summary>
    static string WriteQuestions(string bench)
    {
        var firstOfEachCategory = File.ReadLines(TestPaths.Shared(Vicuna))
            .DistinctBy(line => (string)JsonNode.Parse(line)!["category"]!);
        string path = Path.Combine(bench, "question.jsonl");
        File.WriteAllLines(path, [
            .. firstOfEachCategory,
            """{"question_id": 101, "category": "reasoning", "turns": ["Tom has three apples and eats one. How many are left?", "Then he finds two more. How many now?"], "reference": ["Two.", "Four."]}""",
            """{"question_id": 102, "category": "writing", "turns": ["Write a short story about a brave little dog.", "Give the story a happy ending."]}""",
        ]);
        return path;
    }

    [SharedDataFact(Stories, Vicuna)]
    public async Task Stories260K_behind_camelid_serve_is_answered_judged_and_shown()
    {
        var serveOptions = new ServeOptions { Models = [new ModelSpec(TestPaths.Shared(Stories), "stories")], Port = 0, Parallel = 4 };
        await using var serve = await CamelidServer.StartAsync(serveOptions, _ => { });
        await serve.Loaded;
        await using var judge = await ScriptedServer.StartAsync();
        string bench = TestPaths.NewTempDir();
        string questionsPath = WriteQuestions(bench);
        var questions = QuestionFile.Load(questionsPath);
        int turns = questions.Sum(q => q.Turns.Count);
        Assert.Equal(9 + 2 * 2, turns);  // Vicuna-80 has nine categories

        string[] answer = ["eval", "answer", "--questions", questionsPath, "--model-url", serve.Address.ToString(), "--model", "stories",
                           "--max-tokens", MaxTokens.ToString(CultureInfo.InvariantCulture), .. Fast];
        var answered = CliRunner.Run([.. answer, "--out", bench], null, 120);
        Succeeds(answered);
        Assert.Contains($"{questions.Count} questions answered", answered.StandardOutput);
        var cost = Regex.Match(answered.StandardOutput, @"; (\d+) requests \(0 retries\), ([\d,]+) tokens \(([\d,]+) prompt, ([\d,]+) completion\)");
        Assert.True(cost.Success, answered.StandardOutput);
        long Count(int group) => long.Parse(cost.Groups[group].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.Equal(turns, Count(1));                  // one request per turn, each conversation carried on
        Assert.InRange(Count(4), turns, turns * MaxTokens);  // every reply is some tokens, none beyond --max-tokens
        Assert.True(Count(3) > Count(4), "the prompts (whole conversations in a chat template) outweigh 24-token replies");
        Assert.Equal(Count(2), Count(3) + Count(4));

        var answers = ModelAnswerFile.ByQuestion(ModelAnswerFile.Load(ModelAnswerFile.PathFor(bench, "stories")).Records);
        Assert.Equal(questions.Select(q => q.Id).Order(), answers.Keys.Order());
        foreach (var question in questions)
        {
            var reply = answers[question.Id];
            Assert.Equal("stories", reply.ModelId);
            Assert.Equal(question.Turns.Count, reply.Turns.Count);
            Assert.All(reply.Turns, text => Assert.False(string.IsNullOrWhiteSpace(text), $"question {question.Id} has an empty turn"));
        }

        // Greedy categories (FastChat's temperature 0) come out the same on a second run into a fresh folder.
        string again = TestPaths.NewTempDir();
        Succeeds(CliRunner.Run([.. answer, "--out", again], null, 120));
        var rerun = ModelAnswerFile.ByQuestion(ModelAnswerFile.Load(ModelAnswerFile.PathFor(again, "stories")).Records);
        var greedy = questions.Where(q => new CategoryTemperatures().For(q.Category) == 0).ToList();
        Assert.Equal(["coding", "math", "reasoning"], greedy.Select(q => q.Category).Order());
        Assert.All(greedy, q => Assert.Equal(answers[q.Id].Turns, rerun[q.Id].Turns));

        // The scripted judge grades text it has no mark in by a hash of the prompt it was shown.
        var judged = CliRunner.Run(["eval", "judge", "--questions", questionsPath, "--answers", bench, "--judge-url", judge.Url.ToString(),
                                    "--judge-model", ScriptedModels.Judge, "--out", bench, .. Fast], null, 120);
        Succeeds(judged);
        Assert.Contains($"{turns} judgments, 0 failed", judged.StandardOutput);
        var judgments = JudgmentFile.LoadSingle(JudgmentFile.PathFor(bench, ScriptedModels.Judge, JudgmentKind.Single)).Records;
        Assert.Equal(turns, judgments.Count);
        foreach (var judgment in judgments)
        {
            Assert.Equal("stories", judgment.Model);
            Assert.Contains(answers[judgment.QuestionId].Turns[judgment.Turn - 1], judgment.UserPrompt);
            Assert.Equal(ScriptedModels.UnmarkedGrade(judgment.UserPrompt), judgment.Score);
        }
        Assert.Equal(turns, judgments.Select(j => (j.QuestionId, j.Turn)).Distinct().Count());
        Assert.Contains(judgments, j => j.QuestionId == QuestionId.Number(101) && j.Judge.PromptName == "camelid-single-ref-multi-turn-v1");

        var shown = JsonNode.Parse(Succeeded(CliRunner.Run(["eval", "show", "--judgments", bench, "--format", "json"], null, 60)))!["single"]!;
        var overall = Assert.Single(shown["scores"]!.AsArray())!;
        Assert.Equal(("stories", turns, 0), ((string)overall["model"]!, (int)overall["count"]!, (int)overall["failed"]!));
        AssertClose(judgments.Average(j => j.Score), (double)overall["score"]!);
        foreach (var turn in judgments.GroupBy(j => j.Turn))
        {
            var row = shown["turn_scores"]!.AsArray().Single(r => (int)r!["turn"]! == turn.Key)!;
            AssertClose(turn.Average(j => j.Score), (double)row["score"]!);
        }
        var categoryOf = questions.ToDictionary(q => q.Id, q => q.Category);
        var byCategory = judgments.GroupBy(j => categoryOf[j.QuestionId]).ToList();
        Assert.Equal(byCategory.Count, shown["category_scores"]!.AsArray().Count);
        foreach (var category in byCategory)
        {
            var row = shown["category_scores"]!.AsArray().Single(r => (string)r!["category"]! == category.Key)!;
            AssertClose(category.Average(j => j.Score), (double)row["score"]!);
        }

        // A model name the server does not have is a 404; the hint names this command's options.
        var unknownModel = CliRunner.Run(["eval", "answer", "--questions", questionsPath, "--model-url", serve.Address.ToString(), "--model", "gpt-4",
                                          "--out", TestPaths.NewTempDir(), .. Fast], null, 60);
        Assert.Equal(1, unknownModel.ExitCode);
        Assert.Contains("the candidate model at ", unknownModel.StandardError);
        Assert.Contains("refused the request: HTTP 404", unknownModel.StandardError);
        Assert.Contains("(check --model-url and --model)", unknownModel.StandardError);
        Assert.DoesNotContain("--endpoint", unknownModel.StandardError);
    }

    static string Succeeded(CliResult result)
    {
        Succeeds(result);
        return result.StandardOutput;
    }

    /// <summary>The JSON carries 6 significant digits: equal within 1e-5 (rounding both to 5 places can split a value
    /// on a rounding boundary, e.g. 5.4545454… and its printed 5.454545).</summary>
    static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5, $"expected {expected}, shown {actual}");
}
