using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Files;
using Camelid.Evaluation.Judging;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;
using Camelid.Tests;

namespace Camelid.Evaluation.Tests;

public class VerdictParserTests
{
    [Theory]
    [InlineData("Good answer.\nRating: [[8]]", 8)]
    [InlineData("Rating: [[ 7 ]]", 7)]
    [InlineData("Rating: [[8.5]]", 8.5)]
    [InlineData("[[1]] is harsh but fair", 1)]
    [InlineData("Rating: [[10]]", 10)]
    [InlineData("I give it [[6]]. Final: [[6]]", 6)]                 // the same grade twice is not ambiguous
    [InlineData("no double brackets, so the backup form: [9]", 9)]   // FastChat's one_score_pattern_backup
    [InlineData("[[7]] even though a footnote says [3]", 7)]        // [[N]] wins over the looser [N]
    public void Reads_a_single_grade(string judgment, double expected)
    {
        var verdict = VerdictParser.ParseRating(judgment);
        Assert.Null(verdict.Failure);
        Assert.Equal(expected, verdict.Score);
    }

    [Theory]
    [InlineData("The answer is fine. Rating: 7/10", "no [[rating]]")]
    [InlineData("Rating: [[rating]]", "no [[rating]]")]
    [InlineData("", "no [[rating]]")]
    [InlineData("First [[4]], then [[8]]", "several different ratings (4, 8)")]
    [InlineData("Rating: [[11]]", "outside 1–10")]
    [InlineData("Rating: [[0]]", "outside 1–10")]
    [InlineData("Rating: [[-3]]", "no [[rating]]")]
    [InlineData("[12]", "outside 1–10")]
    public void Refuses_to_guess_a_grade(string judgment, string reason)
    {
        var verdict = VerdictParser.ParseRating(judgment);
        Assert.True(verdict.Failed);
        Assert.Contains(reason, verdict.Failure);
    }

    [Theory]
    [InlineData("A is better.\n[[A]]", "A")]
    [InlineData("[[B]]", "B")]
    [InlineData("Equally good: [[C]]", "tie")]
    [InlineData("[[A]] ... final verdict [[A]]", "A")]
    public void Reads_a_pairwise_verdict(string judgment, string expected) =>
        Assert.Equal(expected, VerdictParser.ParseVerdict(judgment).Winner);

    [Theory]
    [InlineData("Assistant A is better.", "no [[A]], [[B]] or [[C]]")]
    [InlineData("[A]", "no [[A]], [[B]] or [[C]]")]
    [InlineData("[[a]]", "no [[A]], [[B]] or [[C]]")]
    [InlineData("[[A]] but maybe [[B]]", "several different verdicts ([[A]], [[B]])")]
    public void Refuses_to_guess_a_verdict(string judgment, string reason)
    {
        var verdict = VerdictParser.ParseVerdict(judgment);
        Assert.True(verdict.Failed);
        Assert.Contains(reason, verdict.Failure);
    }

    [Theory]
    [InlineData("[[8, 6]]", "A")]
    [InlineData("[[3,9]]", "B")]
    [InlineData("[[7.5, 7.45]]", "tie")]     // within FastChat's TIE_DELTA of 0.1
    [InlineData("scores [6, 7]", "B")]
    public void Reads_two_grades_as_a_verdict(string judgment, string expected) =>
        Assert.Equal(expected, VerdictParser.ParsePair(judgment, JudgePrompt.TwoRatingsFormat).Winner);

    [Theory]
    [InlineData("[[8, 12]]", "outside 1–10")]
    [InlineData("[[8, 6]] or [[6, 8]]", "several different rating pairs")]
    [InlineData("8 and 6", "no [[rating_a,rating_b]]")]
    public void Refuses_to_guess_two_grades(string judgment, string reason) =>
        Assert.Contains(reason, VerdictParser.ParsePair(judgment, JudgePrompt.TwoRatingsFormat).Failure);
}

public class PromptTemplateTests
{
    [Fact]
    public void Fills_placeholders_like_python_str_format()
    {
        var values = new Dictionary<string, string> { ["question"] = "Why {x}?", ["answer"] = "Because." };
        Assert.Equal("Q: Why {x}?\nA: Because. {literal}", PromptTemplate.Format("Q: {question}\nA: {answer} {{literal}}", values));
    }

    [Fact]
    public void Names_a_missing_value_and_an_unknown_placeholder()
    {
        var e = Assert.Throws<FormatException>(() => PromptTemplate.Format("{ref_answer_1}", new Dictionary<string, string>()));
        Assert.Contains("{ref_answer_1}", e.Message);
        var unknown = Assert.Throws<FormatException>(() => PromptTemplate.Validate("mine", "Judge {answer} by {criteria}"));
        Assert.Contains("'mine' uses {criteria}", unknown.Message);
        Assert.Throws<FormatException>(() => PromptTemplate.Placeholders("open {question"));
        Assert.Throws<FormatException>(() => PromptTemplate.Placeholders("stray } brace"));
    }

    [Fact]
    public void Every_built_in_prompt_asks_for_its_verdict_format_and_fills_from_a_two_turn_question()
    {
        var question = new Question(QuestionId.Number(1), "math", ["What is 2+3?", "And times 4?"], ["REF-FIVE", "REF-TWENTY"]);
        foreach (var prompt in BuiltInJudgePrompts.All)
        {
            PromptTemplate.Validate(prompt.Name, prompt.Template);
            int turn = prompt.IsMultiTurn ? 2 : 1;
            var values = prompt.Kind == JudgeKind.Single
                ? JudgePromptValues.Single(question, ["It is 5.", "It is 20."], turn)
                : JudgePromptValues.Pair(question, ["5", "20"], ["6", "24"], turn);
            string text = PromptTemplate.Format(prompt.Template, values);
            Assert.Contains(prompt.Kind == JudgeKind.Single ? "[[N]]" : "[[C]]", text);
            Assert.Equal(prompt.UsesReference, text.Contains(turn == 1 ? "REF-FIVE" : "REF-TWENTY"));
            if (prompt.IsMultiTurn)
                Assert.Contains("### User:\nWhat is 2+3?", text);
        }
    }
}

public class QuestionFileTests
{
    [SharedDataFact("eval/vicuna80/question.jsonl", "eval/vicuna80/question_v1_2023-04.jsonl")]
    public void Reads_both_vicuna_formats_to_the_same_questions()
    {
        var current = QuestionFile.Load(TestPaths.Shared("eval/vicuna80/question.jsonl"));
        var old = QuestionFile.Load(TestPaths.Shared("eval/vicuna80/question_v1_2023-04.jsonl"));
        Assert.Equal(80, current.Count);
        Assert.Equal(current.Select(q => (q.Id, q.Category, q.Turns.Single())), old.Select(q => (q.Id, q.Category, q.Turns.Single())));
        Assert.Equal(9, current.Select(q => q.Category).Distinct().Count());
        Assert.Equal("How can I improve my time management skills?", current[0].Turns[0]);
        Assert.True(current[0].Id.IsNumber);
    }

    [Fact]
    public void Reads_turns_references_and_string_ids()
    {
        string path = Write("""
            {"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Now shorter."]}

            {"question_id": "arena-7", "category": "math", "turns": ["2+2?"], "reference": ["4"]}
            """);
        var questions = QuestionFile.Load(path);
        Assert.Equal(2, questions.Count);
        Assert.Equal(["Write a poem.", "Now shorter."], questions[0].Turns);
        Assert.Null(questions[0].Reference);
        Assert.False(questions[1].Id.IsNumber);
        Assert.Equal(["4"], questions[1].Reference);
    }

    [Theory]
    [InlineData("{\"question_id\": 1, \"turns\": [\"a\"]}\n{\"question_id\": 2, \"turns\": [\"b\"]}\n{\"question_id\": 3, \"turns\": [\"c\"\n", "line 3: not valid JSON")]
    [InlineData("{\"question_id\": 1, \"turns\": [\"a\"]}\n{\"question_id\": 2}\n", "line 2: a question needs \"turns\"")]
    [InlineData("{\"question_id\": 1, \"turns\": [\"a\"]}\n[1, 2]\n", "line 2: expected a JSON object")]
    [InlineData("{\"question_id\": 1, \"turns\": [\"a\"]}\n{\"question_id\": 1, \"turns\": [\"b\"]}\n", "question_id 1 appears more than once")]
    [InlineData("{\"question_id\": true, \"turns\": [\"a\"]}\n", "line 1: \"question_id\" must be a number or a string")]
    [InlineData("{\"question_id\": 1, \"turns\": []}\n", "line 1: question 1 has no turns")]
    [InlineData("\n\n", "holds no questions")]
    public void Rejects_malformed_question_files_naming_the_line(string content, string message)
    {
        var e = Assert.Throws<EvaluationFormatException>(() => QuestionFile.Load(Write(content)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_missing_question_file_is_reported_by_name() =>
        Assert.Contains("nope.jsonl not found", Assert.Throws<FileNotFoundException>(() => QuestionFile.Load("nope.jsonl")).Message);

    [Fact]
    public void An_interrupted_last_line_of_an_output_file_is_ignored_then_cut_before_appending()
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "m.jsonl");
        const string Torn = "{\"question_id\": 2, \"mod";
        File.WriteAllText(path, "{\"question_id\": 1, \"model_id\": \"m\", \"choices\": [{\"index\": 0, \"turns\": [\"x\"]}]}\n" + Torn);
        var content = ModelAnswerFile.Load(path);
        Assert.Single(content.Records);
        Assert.Equal(Torn.Length, content.TornTailBytes);
        using (var appender = new JsonLinesAppender<ModelAnswer>(path, ModelAnswer.Write, content.TornTailBytes))
            appender.Append(new ModelAnswer(QuestionId.Number(2), "id2", "m", [new AnswerChoice(0, ["y"])], 1.5));
        var reread = ModelAnswerFile.Load(path);
        Assert.Equal(0, reread.TornTailBytes);
        Assert.Equal(["x", "y"], reread.Records.Select(a => a.Turns[0]));
        Assert.EndsWith("\n", File.ReadAllText(path));
    }

    [Fact]
    public void A_complete_last_line_without_newline_is_kept_and_a_newline_added()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "j.jsonl");
        File.WriteAllText(path, "{\"question_id\": 1, \"model\": \"m\", \"judge\": [\"g\", \"p\"], \"score\": 7, \"turn\": 1}");
        var content = JudgmentFile.LoadSingle(path);
        Assert.Equal(0, content.TornTailBytes);
        using (var appender = new JsonLinesAppender<SingleJudgment>(path, SingleJudgment.Write, 0))
            appender.Append(content.Records[0] with { Turn = 2 });
        Assert.Equal([1, 2], JudgmentFile.LoadSingle(path).Records.Select(j => j.Turn));
    }

    [Fact]
    public void A_malformed_line_in_the_middle_of_an_output_file_is_an_error_not_a_torn_tail()
    {
        string path = Write("{\"question_id\": 1, \"model\": \"m\", \"judge\": [\"g\", \"p\"], \"score\": 7, \"turn\": 1}\n{oops\n" +
                            "{\"question_id\": 2, \"model\": \"m\", \"judge\": [\"g\", \"p\"], \"score\": 7, \"turn\": 1}\n");
        Assert.Contains("line 2: not valid JSON", Assert.Throws<EvaluationFormatException>(() => JudgmentFile.LoadSingle(path)).Message);
    }

    static string Write(string content)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "questions.jsonl");
        File.WriteAllText(path, content);
        return path;
    }
}

public class FileFormatTests
{
    // Lines as FastChat's gen_judgment.py and gen_api_answer.py write them (json.dumps: ", " and ": " separators).
    const string FastChatSingle = """{"question_id": 81, "model": "vicuna-13b-v1.3", "judge": ["gpt-4", "single-v1"], "user_prompt": "[Instruction]\n...", "judgment": "... Rating: [[7]]", "score": 7, "turn": 1, "tstamp": 1687221790.6139}""";
    const string FastChatPair = """{"question_id": 81, "model_1": "alpaca-13b", "model_2": "gpt-3.5-turbo", "g1_winner": "model_2", "g2_winner": "tie", "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "p1", "g1_judgment": "[[B]]", "g2_user_prompt": "p2", "g2_judgment": "[[C]]", "turn": 1, "tstamp": 1687222000.1}""";
    const string FastChatAnswer = """{"question_id": 81, "answer_id": "7tsJk2EZfWXRTAkqYGdc2K", "model_id": "gpt-3.5-turbo", "choices": [{"index": 0, "turns": ["Aloha!", "A shorter aloha."]}], "tstamp": 1686795000.5}""";

    [Fact]
    public void Reads_fastchat_lines_and_writes_the_same_fields_back_in_the_same_order()
    {
        var single = SingleJudgment.Parse(System.Text.Json.JsonDocument.Parse(FastChatSingle).RootElement);
        Assert.Equal(new JudgeId("gpt-4", "single-v1"), single.Judge);
        Assert.Equal(7, single.Score);
        AssertSameJson(FastChatSingle, Line(single, SingleJudgment.Write));

        var pair = PairJudgment.Parse(System.Text.Json.JsonDocument.Parse(FastChatPair).RootElement);
        Assert.Equal(("model_2", "tie"), (pair.G1Winner, pair.G2Winner));
        AssertSameJson(FastChatPair, Line(pair, PairJudgment.Write));

        var answer = ModelAnswer.Parse(System.Text.Json.JsonDocument.Parse(FastChatAnswer).RootElement);
        Assert.Equal(["Aloha!", "A shorter aloha."], answer.Turns);
        AssertSameJson(FastChatAnswer, Line(answer, ModelAnswer.Write));
    }

    static void AssertSameJson(string expected, string actual)
    {
        var e = System.Text.Json.Nodes.JsonNode.Parse(expected)!.AsObject();
        var a = System.Text.Json.Nodes.JsonNode.Parse(actual)!.AsObject();
        Assert.Equal(e.Select(p => p.Key), a.Select(p => p.Key));
        foreach (var (key, value) in e)
            Assert.Equal(value!.ToJsonString(), a[key]!.ToJsonString());
    }

    [Fact]
    public void A_pair_winner_outside_fastchats_values_is_an_error() =>
        Assert.Throws<FormatException>(() => PairJudgment.Parse(System.Text.Json.JsonDocument.Parse(FastChatPair.Replace("\"tie\"", "\"A\"")).RootElement));

    [Fact]
    public void Judge_files_are_named_after_the_judge_model_as_fastchat_does()
    {
        Assert.Equal(Path.Combine("b", "model_judgment", "gpt-4_single.jsonl"), JudgmentFile.PathFor("b", "gpt-4", JudgmentKind.Single));
        Assert.Equal(Path.Combine("b", "model_judgment", "meta-llama_Llama-3-70B_pair.jsonl"), JudgmentFile.PathFor("b", "meta-llama/Llama-3-70B", JudgmentKind.Pair));
        Assert.Throws<ArgumentException>(() => ModelAnswerFile.ValidateModelId("org/model"));
    }

    static string Line<T>(T record, Action<System.Text.Json.Utf8JsonWriter, T> write) =>
        System.Text.Encoding.UTF8.GetString(JsonLinesAppender.Line(record, write)).TrimEnd('\n');
}
