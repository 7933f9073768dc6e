using System.Text.Json.Nodes;
using Camelid.Cli.Tests;
using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;
using Camelid.Tests;

namespace Camelid.Evaluation.Tests;

/// <summary>
/// `camelid eval answer | judge | show` as child processes against the scripted OpenAI-compatible server on a
/// real port. Expected numbers are worked out here from the script's rules (<see cref="ScriptedModels"/>) and the
/// question file, independently of Camelid's aggregation.
/// </summary>
public class EndToEndTests
{
    const string Vicuna = "eval/vicuna80/question.jsonl";
    static readonly string[] Fast = ["--retry-delay", "0.01", "--request-timeout", "20"];

    static CliResult Eval(params string[] args)
    {
        var result = CliRunner.Run(["eval", .. args], null, timeoutSeconds: 120);
        return result;
    }

    static void Succeeds(CliResult result) =>
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\nstdout: {result.StandardOutput}\nstderr: {result.StandardError}");

    [SharedDataFact(Vicuna, "eval/vicuna80/question_v1_2023-04.jsonl")]
    public async Task Vicuna80_answered_graded_compared_and_shown_as_the_script_dictates()
    {
        await using var server = await ScriptedServer.StartAsync(failEvery: 37);
        string bench = TestPaths.NewTempDir();
        string questionsPath = TestPaths.Shared(Vicuna);
        var questions = QuestionFile.Load(questionsPath);
        string[] models = ["model-good", "model-mid", "model-weak"];

        foreach (string model in models)
        {
            // model-mid reads the 2023 Vicuna format of the same questions.
            string file = model == "model-mid" ? TestPaths.Shared("eval/vicuna80/question_v1_2023-04.jsonl") : questionsPath;
            var answer = Eval(["answer", "--questions", file, "--model-url", server.Url.ToString(), "--model", model, "--out", bench, "--concurrency", "4", .. Fast]);
            Succeeds(answer);
            Assert.Contains("80 questions answered", answer.StandardOutput);
            Assert.Matches(@"\d+ retries\), [\d,]+ tokens \([\d,]+ prompt, [\d,]+ completion\)", answer.StandardOutput);
        }
        // The candidates were asked at FastChat's temperatures, the retried 429/500s included.
        var candidateRequests = server.Requests.Where(r => r.Model != ScriptedModels.Judge).ToList();
        var temperatureOf = questions.ToDictionary(q => q.Turns[0], q => q.Category switch { "coding" or "math" => 0.0, _ => 0.7 });
        Assert.All(candidateRequests, r => Assert.Equal(temperatureOf[r.LastUser], r.Temperature));
        Assert.True(server.RequestCount > 240, "some first attempts failed and were retried");

        var answers = ModelAnswerFile.LoadAll(bench);
        Assert.Equal(models, answers.Keys.Order());
        Assert.All(answers.Values, a => Assert.Equal(80, a.Count));
        var good = ModelAnswerFile.Load(ModelAnswerFile.PathFor(bench, "model-good")).Records;
        Assert.Equal(questions.Select(q => q.Id), good.Select(a => a.QuestionId)); // sorted by question id at the end
        Assert.All(good, a => Assert.Equal(22, a.AnswerId.Length));

        // Single grades: every answer once; the three malformed questions fail for every model.
        var single = Eval(["judge", "--questions", questionsPath, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", ScriptedModels.Judge,
                           "--mode", "single", "--out", bench, .. Fast]);
        Succeeds(single);
        Assert.Contains("240 judgments", single.StandardOutput);
        Assert.Contains("9 failed", single.StandardOutput);
        Assert.Contains("several different ratings", single.StandardError);
        Assert.All(server.Requests.Where(r => r.Model == ScriptedModels.Judge), r => Assert.Equal(0, r.Temperature));
        var judgments = JudgmentFile.LoadSingle(Path.Combine(bench, "model_judgment", "judge_single.jsonl")).Records;
        Assert.Equal(240, judgments.Count);
        Assert.All(judgments.Where(j => ScriptedModels.Malformed(Text(questions, j.QuestionId)) != null), j => Assert.Equal(-1, j.Score));

        var shown = JsonNode.Parse(Succeeded(Eval("show", "--judgments", bench, "--questions", questionsPath, "--baseline", "model-mid", "--format", "json")))!;
        var scores = shown["single"]!["scores"]!.AsArray();
        var valid = questions.Where(q => ScriptedModels.Malformed(q.Turns[0]) == null).ToList();
        foreach (string model in models)
        {
            var row = scores.Single(r => (string)r!["model"]! == model)!;
            Assert.Equal(valid.Average(q => ScriptedModels.Quality(model, q.Turns[0])), (double)row["score"]!, 5);
            Assert.Equal(3, (int)row["failed"]!);
            foreach (var category in valid.GroupBy(q => q.Category))
            {
                var categoryRow = shown["single"]!["category_scores"]!.AsArray()
                    .Single(r => (string)r!["model"]! == model && (string)r["category"]! == category.Key)!;
                Assert.Equal(category.Average(q => ScriptedModels.Quality(model, q.Turns[0])), (double)categoryRow["score"]!, 5);
            }
        }
        var relative = shown["single"]!["relative_scores"]!.AsArray().Single(r => (string)r!["model"]! == "model-good")!;
        Assert.Equal(100.0 * valid.Sum(q => ScriptedModels.Quality("model-good", q.Turns[0])) / valid.Sum(q => ScriptedModels.Quality("model-mid", q.Turns[0])),
                     (double)relative["relative_score"]!, 4);

        // Pairwise, every pair in both orders.
        var pairwise = Eval(["judge", "--questions", questionsPath, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", ScriptedModels.Judge,
                             "--mode", "pairwise-all", "--out", bench, "--concurrency", "8", .. Fast]);
        Succeeds(pairwise);
        Assert.Contains("240 judgments", pairwise.StandardOutput);
        Assert.Contains("6 failed", pairwise.StandardOutput);  // 2 malformed questions × 3 pairs
        var pairShown = JsonNode.Parse(Succeeded(Eval("show", "--judgments", Path.Combine(bench, "model_judgment", "judge_pair.jsonl"), "--format", "json")))!["pairwise"]!;
        Assert.Equal("pairwise-all", (string)pairShown["mode"]!);
        Assert.Equal(6, (int)pairShown["errors"]!);

        var pairValid = questions.Where(q => ScriptedModels.Malformed(q.Turns[0]) is null or "out-of-range").ToList();
        var expected = models.ToDictionary(m => m, _ => (Win: 0, Loss: 0, Tie: 0));
        int inconsistent = 0;
        foreach (var (m1, m2) in new[] { (models[0], models[1]), (models[0], models[2]), (models[1], models[2]) })
            foreach (var q in pairValid)
            {
                int q1 = ScriptedModels.Quality(m1, q.Turns[0]), q2 = ScriptedModels.Quality(m2, q.Turns[0]);
                var (winner, loser) = q1 > q2 ? (m1, m2) : (m2, m1);
                if (q1 == q2)
                {
                    inconsistent++;  // the judge says "A" in both orders
                    expected[m1] = expected[m1] with { Tie = expected[m1].Tie + 1 };
                    expected[m2] = expected[m2] with { Tie = expected[m2].Tie + 1 };
                    continue;
                }
                expected[winner] = expected[winner] with { Win = expected[winner].Win + 1 };
                expected[loser] = expected[loser] with { Loss = expected[loser].Loss + 1 };
            }
        Assert.True(inconsistent > 0, "the fixture should exercise position bias");
        Assert.Equal(1 - inconsistent / (3.0 * pairValid.Count), (double)pairShown["consistency_rate"]!, 5);
        foreach (string model in models)
        {
            var row = pairShown["win_rates"]!.AsArray().Single(r => (string)r!["model"]! == model)!;
            var (win, loss, tie) = expected[model];
            Assert.Equal((win, loss, tie), ((int)row["win"]!, (int)row["loss"]!, (int)row["tie"]!));
            Assert.Equal((win + 0.5 * tie) / (win + loss + tie), (double)row["win_rate_adjusted"]!, 5);
        }
        var elo = pairShown["elo"]!["ratings"]!.AsArray();
        Assert.Equal(["model-good", "model-mid", "model-weak"], elo.Select(r => (string)r!["model"]!));
        Assert.All(elo, r => Assert.InRange((double)r!["elo"]!, (double)r["lower"]! - 1e-9, (double)r["upper"]! + 1e-9));
        Assert.All(elo, r => Assert.NotNull(r!["bradley_terry"]));

        // Re-running the judge finds everything judged and asks nothing.
        int before = server.RequestCount;
        var again = Eval(["judge", "--questions", questionsPath, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", ScriptedModels.Judge,
                          "--mode", "pairwise-all", "--out", bench, .. Fast]);
        Succeeds(again);
        Assert.Contains("0 judgments, 240 already there", again.StandardOutput);
        Assert.Equal(before, server.RequestCount);

        // The table is the default format; markdown has pipes.
        string table = Succeeded(Eval("show", "--judgments", Path.Combine(bench, "model_judgment", "judge_single.jsonl")));
        Assert.Contains("## Mean score (1–10) per model and turn", table);
        Assert.DoesNotContain("## Mean score per category", table);  // no question.jsonl beside model_judgment/ and no --questions
        Assert.Contains("note: no question file", table);
        string markdown = Succeeded(Eval("show", "--judgments", Path.Combine(bench, "model_judgment", "judge_pair.jsonl"), "--format", "markdown"));
        Assert.Contains("| model | win | loss | tie |", markdown);
    }

    [Fact]
    public async Task Two_turn_questions_with_references_use_multi_turn_and_reference_guided_prompts()
    {
        await using var server = await ScriptedServer.StartAsync();
        string bench = TestPaths.NewTempDir();
        string questions = Path.Combine(bench, "question.jsonl");
        File.WriteAllText(questions, """
            {"question_id": 101, "category": "writing", "turns": ["Write a two-line poem about llamas.", "Rewrite it so that every line rhymes with 'hum'."]}
            {"question_id": 102, "category": "math", "turns": ["What is 17 * 3?", "Now divide that result by 3."], "reference": ["51", "17"]}
            {"question_id": 103, "category": "reasoning", "turns": ["If all llamas hum and Lola is a llama, does Lola hum?", "What if only some llamas hum?"], "reference": ["Yes.", "We cannot tell."]}
            {"question_id": 104, "category": "coding", "turns": ["Write a C# function that reverses a string.", "Make it handle null."]}
            """);
        foreach (string model in (string[])["model-good", "model-weak"])
            Succeeds(Eval(["answer", "--questions", questions, "--model-url", server.Url.ToString(), "--model", model, "--out", bench, .. Fast]));

        // Both turns were asked in one conversation: the second request carried the first answer.
        var answer = ModelAnswerFile.ByQuestion(ModelAnswerFile.Load(ModelAnswerFile.PathFor(bench, "model-good")).Records)[QuestionId.Number(102)];
        Assert.StartsWith("model-good reply to turn 1 (after 0 earlier replies)", answer.Turns[0]);
        Assert.StartsWith("model-good reply to turn 2 (after 1 earlier replies)", answer.Turns[1]);
        var second = server.Requests.Single(r => r.Model == "model-good" && r.LastUser == "Now divide that result by 3.");
        Assert.Equal(["user", "assistant", "user"], second.Messages.Select(m => m.Role));
        Assert.Equal(answer.Turns[0], second.Messages[1].Content);
        Assert.Equal(0.0, second.Temperature);

        Succeeds(Eval(["judge", "--questions", questions, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", "judge", "--out", bench, .. Fast]));
        var judgments = JudgmentFile.LoadSingle(JudgmentFile.PathFor(bench, "judge", JudgmentKind.Single)).Records;
        Assert.Equal(16, judgments.Count);  // 4 questions × 2 turns × 2 models
        string PromptOf(int question, int turn) => judgments.First(j => j.QuestionId == QuestionId.Number(question) && j.Turn == turn).Judge.PromptName;
        Assert.Equal("camelid-single-v1", PromptOf(101, 1));
        Assert.Equal("camelid-single-multi-turn-v1", PromptOf(101, 2));
        Assert.Equal("camelid-single-ref-v1", PromptOf(102, 1));
        Assert.Equal("camelid-single-ref-multi-turn-v1", PromptOf(103, 2));
        Assert.Equal("camelid-single-v1", PromptOf(104, 1));   // coding, but no reference answer
        var mathTurn2 = judgments.First(j => j.QuestionId == QuestionId.Number(102) && j.Turn == 2 && j.Model == "model-weak");
        Assert.Contains("<reference_answer_to_final_message>\n17\n", mathTurn2.UserPrompt);
        Assert.Contains("### User:\nWhat is 17 * 3?", mathTurn2.UserPrompt);
        Assert.Equal(ScriptedModels.Quality("model-weak", "Now divide that result by 3."), mathTurn2.Score);

        // The judge's system prompt travels as a system message.
        var judgeRequest = server.Requests.First(r => r.Model == "judge");
        Assert.Equal(["system", "user"], judgeRequest.Messages.Select(m => m.Role));

        // pairwise-baseline: the baseline's own row is not shown; both turns are compared.
        Succeeds(Eval(["judge", "--questions", questions, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", "judge",
                       "--mode", "pairwise-baseline", "--baseline", "model-weak", "--out", bench, .. Fast]));
        var pairs = JudgmentFile.LoadPair(JudgmentFile.PathFor(bench, "judge", JudgmentKind.Pair)).Records;
        Assert.Equal(8, pairs.Count);
        Assert.All(pairs, p => Assert.Equal(("model-good", "model-weak"), (p.Model1, p.Model2)));
        var shown = JsonNode.Parse(Succeeded(Eval("show", "--judgments", bench, "--mode", "pairwise-baseline", "--format", "json")))!["pairwise"]!;
        Assert.Equal("model-weak", (string)shown["baseline"]!);
        var row = Assert.Single(shown["win_rates"]!.AsArray())!;
        Assert.Equal("model-good", (string)row["model"]!);
        Assert.Null(shown["elo"]);

        // show picks up question.jsonl beside model_judgment/ for the categories.
        var single = JsonNode.Parse(Succeeded(Eval("show", "--judgments", bench, "--mode", "single", "--format", "json")))!["single"]!;
        Assert.Equal(4, single["category_scores"]!.AsArray().Count(r => (string)r!["model"]! == "model-good"));
        Assert.Equal(2, single["turn_scores"]!.AsArray().Count(r => (string)r!["model"]! == "model-good"));
    }

    [Fact]
    public async Task Judge_prompts_in_fastchats_file_shape_are_used_by_name()
    {
        await using var server = await ScriptedServer.StartAsync();
        string bench = TestPaths.NewTempDir();
        string questions = Path.Combine(bench, "question.jsonl");
        File.WriteAllText(questions, """
            {"question_id": 1, "category": "writing", "turns": ["Describe a llama.", "Now in one sentence."]}
            """);
        string prompts = Path.Combine(bench, "judge_prompts.jsonl");
        // Our own wording in FastChat's record shape and names; an extra pairwise record is ignored for single mode.
        File.WriteAllText(prompts, """
            {"name": "single-v1", "type": "single", "system_prompt": "Grade fairly.", "prompt_template": "[Question]\n{question}\n\n[Reply]\n{answer}\n\nEnd with [[N]].", "description": "t", "category": "general", "output_format": "[[rating]]"}
            {"name": "single-v1-multi-turn", "type": "single", "system_prompt": "Grade the second reply.", "prompt_template": "[Question]\n{question_1}\n[Reply]\n{answer_1}\n[Question]\n{question_2}\n[Reply]\n{answer_2}\n\nEnd with [[N]].", "description": "t", "category": "general", "output_format": "[[rating]]"}
            {"name": "pair-v2", "type": "pairwise", "system_prompt": "", "prompt_template": "{question} [Assistant A] {answer_a} [Assistant B] {answer_b}", "description": "t", "category": "general", "output_format": "[[A]]"}
            """);
        Succeeds(Eval(["answer", "--questions", questions, "--model-url", server.Url.ToString(), "--model", "model-good", "--out", bench, .. Fast]));
        var judged = Eval(["judge", "--questions", questions, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", "judge",
                           "--judge-prompts", prompts, "--out", bench, .. Fast]);
        Succeeds(judged);
        Assert.Contains("prompts single-v1, single-v1-multi-turn", judged.StandardOutput);
        var judgments = JudgmentFile.LoadSingle(JudgmentFile.PathFor(bench, "judge", JudgmentKind.Single)).Records.OrderBy(j => j.Turn).ToList();
        Assert.Equal(["single-v1", "single-v1-multi-turn"], judgments.Select(j => j.Judge.PromptName));
        Assert.StartsWith("[Question]\nDescribe a llama.\n\n[Reply]\nmodel-good reply to turn 1", judgments[0].UserPrompt);
        Assert.Equal(ScriptedModels.Quality("model-good", "Now in one sentence."), judgments[1].Score);
        Assert.Equal("Grade the second reply.", server.Requests.Single(r => r.Model == "judge" && r.LastUser.Contains("[Question]\nNow in one sentence.")).System);

        File.AppendAllText(prompts, "\n{\"name\": \"broken\", \"type\": \"single\", \"prompt_template\": \"{question} {mood}\", \"output_format\": \"[[rating]]\"}\n");
        var broken = Eval(["judge", "--questions", questions, "--answers", bench, "--judge-url", server.Url.ToString(), "--judge-model", "judge",
                           "--judge-prompts", prompts, "--out", bench, .. Fast]);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("line 4: judge prompt 'broken' uses {mood}", broken.StandardError);
    }

    static string Text(IReadOnlyList<Question> questions, QuestionId id) => questions.Single(q => q.Id == id).Turns[0];

    static string Succeeded(CliResult result)
    {
        Succeeds(result);
        return result.StandardOutput;
    }
}
