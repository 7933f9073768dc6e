using Camelid.Data.Nano;
using Camelid.Tests;

namespace Camelid.Data.Tests.Nano;

public class NanoEvaluationTests
{
    static NanoExample Example(NanoSkill skill, string question, string answer) =>
        new(skill, [("user", question), ("assistant", answer)], answer);

    [Fact]
    public void Score_CountsExactMatches_PerSkill()
    {
        NanoExample[] heldOut =
        [
            Example(NanoSkill.Arithmetic, "What is 47 + 25?", "72"),
            Example(NanoSkill.Arithmetic, "What is 10 - 3?", "7"),
            Example(NanoSkill.Arithmetic, "What is 2 * 3?", "6"),
            Example(NanoSkill.Arithmetic, "What is 9 * 9?", "81"),
            Example(NanoSkill.Facts, "What colour is grass?", "Green"),
            Example(NanoSkill.Facts, "What colour is snow?", "White"),
            Example(NanoSkill.CommandHelp, "How do I serve a model?", "camelid serve --model MODEL --port 8080"),
        ];
        var replies = new Dictionary<string, string>
        {
            ["What is 47 + 25?"] = " 72\n",            // surrounding whitespace is trimmed: right
            ["What is 10 - 3?"] = "7.",                // punctuation is not forgiven: wrong
            ["What is 2 * 3?"] = "6",                  // right
            ["What is 9 * 9?"] = "18",                 // wrong
            ["What colour is grass?"] = "green",       // case matters: wrong
            ["What colour is snow?"] = "White",        // right
            ["How do I serve a model?"] = "camelid serve --model MODEL  --port 8080", // inner spacing matters: wrong
        };
        var score = NanoEvaluation.Score(heldOut, prompt => replies[prompt[^1].Content]);

        Assert.Equal((2, 4), (score[NanoSkill.Arithmetic].Correct, score[NanoSkill.Arithmetic].Total));
        Assert.Equal(0.5, score[NanoSkill.Arithmetic].Accuracy);
        Assert.Equal(0.5, score[NanoSkill.Facts].Accuracy);
        Assert.Equal(0.0, score[NanoSkill.CommandHelp].Accuracy);
        Assert.Equal((0, 0), (score[NanoSkill.Identity].Correct, score[NanoSkill.Identity].Total));
        Assert.Equal(3.0 / 7, score.Accuracy, 12);
        Assert.Equal(4, score.Misses.Count);
        Assert.Equal("18", score.Misses.Single(m => m.Example.ExpectedAnswer == "81").Answer);

        string table = score.Format();
        Assert.Contains("arithmetic", table);
        Assert.Matches(@"arithmetic\s+2/4\s+50\.0%", table);
        Assert.Matches(@"facts\s+1/2\s+50\.0%", table);
        Assert.Matches(@"all\s+3/7\s+42\.9%", table);
        Assert.Equal(Enum.GetValues<NanoSkill>().Length + 2, table.TrimEnd('\n').Split('\n').Length); // header, skills, total
    }

    [Fact]
    public void Score_GivesTheModelOnlyThePrompt_WithEarlierTurnsAsContext()
    {
        var example = NanoInstructions.GenerateSkill(4, NanoSkill.Arithmetic, 200, NanoSplit.HeldOut)
            .First(e => e.Messages.Count(m => m.Role == "user") == 2);
        IReadOnlyList<(string Role, string Content)>? seen = null;
        var score = NanoEvaluation.Score([example], prompt => { seen = prompt; return example.ExpectedAnswer; });
        Assert.Equal(example.Messages.Take(example.Messages.Count - 1), seen);
        Assert.Equal("user", seen![^1].Role);
        Assert.Contains(seen, m => m.Role == "assistant");
        Assert.Equal(1.0, score.Accuracy);
    }

    [Fact]
    public void PerfectAndEmptyModels_ScoreOneAndZero_OnGeneratedHeldOut()
    {
        var heldOut = NanoInstructions.Generate(99, 20, NanoSplit.HeldOut).ToList();
        var byPrompt = heldOut.ToDictionary(e => e.PromptText, e => e.ExpectedAnswer);
        var perfect = NanoEvaluation.Score(heldOut, prompt => byPrompt[string.Join("\n", prompt.Select(m => $"{m.Role}: {m.Content}"))]);
        Assert.All(perfect.Skills, s => Assert.Equal((20, 20), (s.Correct, s.Total)));
        var silent = NanoEvaluation.Score(heldOut, _ => "");
        Assert.Equal(0, silent.Correct);
        Assert.Equal(heldOut.Count, silent.Misses.Count);
    }

    [Fact]
    public void Files_TrainingIsOpenAiMessages_HeldOutRoundTrips()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            var train = NanoInstructions.Generate(2, 10, NanoSplit.Train).ToList();
            var heldOut = NanoInstructions.Generate(2, 10, NanoSplit.HeldOut).ToList();
            Assert.Equal(70, NanoDataFiles.WriteTraining(Path.Combine(dir, "train.jsonl"), train));
            Assert.Equal(70, NanoDataFiles.WriteHeldOut(Path.Combine(dir, "heldout.jsonl"), heldOut));

            var records = Camelid.Data.Formats.DataFile.Read<Camelid.Data.Formats.OpenAiMessagesRecord>(Path.Combine(dir, "train.jsonl")).ToList();
            Assert.Equal(train.Select(e => string.Join("\n", e.Messages.Select(m => $"{m.Role}: {m.Content}"))),
                records.Select(r => string.Join("\n", r.Messages.Select(m => $"{m.Role}: {m.Content}"))));
            Assert.StartsWith("{\"messages\":[{\"role\":", File.ReadLines(Path.Combine(dir, "train.jsonl")).First());

            var readBack = NanoDataFiles.ReadHeldOut(Path.Combine(dir, "heldout.jsonl"));
            Assert.Equal(heldOut.Select(e => (e.Skill, e.PromptText, e.ExpectedAnswer)), readBack.Select(e => (e.Skill, e.PromptText, e.ExpectedAnswer)));
            Assert.Equal(heldOut.SelectMany(e => e.Messages), readBack.SelectMany(e => e.Messages));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
