using Camelid.Data.Formats;
using Camelid.Data.Instructions;
using Camelid.Data.Teacher;
using Camelid.Tests;
using Camelid.Tests.Teachers;

namespace Camelid.Data.Tests.Instructions;

/// <summary>The scripted teacher's answers without HTTP, arriving in a shuffled order (a few ms apart).</summary>
sealed class InProcessTeacher : ITeacher
{
    int _answers;

    public int Answers => _answers;

    public async Task<TeacherCompletion> CompleteAsync(TeacherRequest request, CancellationToken cancellation)
    {
        await Task.Delay((int)(ScriptedTeacher.Hash(request.Prompt) % 4), cancellation);
        var answer = ScriptedAnswers.Answer(request.Prompt);
        Interlocked.Increment(ref _answers);
        return new TeacherCompletion(answer.Text, answer.FinishReason, new TeacherUsage(request.Prompt.Length / 4, answer.Text.Length / 4));
    }
}

public class GeneratorTests
{
    internal static readonly IReadOnlyList<SeedTask> Seeds =
    [
        new("s0", "Give three tips for staying healthy during the winter months.", [new("", "Sleep enough, eat vegetables, and keep moving.")], false),
        new("s1", "Classify the sentiment of the review as positive or negative.", [new("The food was cold and bland.", "Negative")], true),
        new("s2", "Translate the following sentence into Spanish.", [new("Where is the train station?", "¿Dónde está la estación de tren?")], false),
        new("s3", "Write a short story about a lighthouse keeper who finds a message in a bottle.", [new("", "Every morning, Elias walked the shore...")], false),
        new("s4", "Sort the given numbers in ascending order.", [new("9, 2, 7, 4", "2, 4, 7, 9")], false),
        new("s5", "Explain the difference between weather and climate to a child.", [new("", "Weather is what happens today; climate is what usually happens.")], false),
        new("s6", "Suggest a name for a coffee shop that also sells books.", [new("", "Chapter & Bean")], false),
        new("s7", "Decide whether the argument in the paragraph is logically valid.", [new("All cats purr. Tom purrs. So Tom is a cat.", "Not valid")], true),
        new("s8", "Summarize the paragraph in one sentence.", [new("The council met on Tuesday and approved the new park after long debate.", "The council approved the new park.")], false),
        new("s9", "List the planets of the solar system in order from the sun.", [new("", "Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus, Neptune")], false),
    ];

    static SelfInstructOptions Options(string dir, GenerationMode mode, int count) => new()
    {
        Mode = mode,
        Count = count,
        TeacherModel = "scripted",
        Concurrency = 3,
        Batch = 2,
        OutputPath = Path.Combine(dir, "out.json"),
        SnapshotInterval = TimeSpan.Zero, // rewrite the outputs after every unit, to exercise it
    };

    static async Task<GenerationSummary> Run(SelfInstructOptions options) =>
        await new SelfInstructGenerator(options, Seeds, new InProcessTeacher()).RunAsync();

    [Theory]
    [InlineData(GenerationMode.Alpaca, 60)]
    [InlineData(GenerationMode.SelfInstruct, 16)]
    public async Task InterruptedAndResumed_EqualsUninterrupted(GenerationMode mode, int count)
    {
        string straight = TestPaths.NewTempDir(), interrupted = TestPaths.NewTempDir();
        var reference = await Run(Options(straight, mode, count));
        Assert.True(reference.ResumedUnits == 0 && reference.Progress.Records > 0);

        var random = new Random((int)mode + count);
        int stops = 0;
        for (int attempt = 0; attempt < 40; attempt++)
        {
            using var cancel = new CancellationTokenSource();
            int stopAfter = random.Next(1, 4), commits = 0;
            try
            {
                await new SelfInstructGenerator(Options(interrupted, mode, count), Seeds, new InProcessTeacher())
                    .RunAsync(_ => { if (++commits == stopAfter) cancel.Cancel(); }, cancel.Token);
                break; // finished
            }
            catch (OperationCanceledException)
            {
                stops++;
                if (stops % 3 == 0) // and sometimes a crash in the middle of a journal write
                    File.AppendAllText(GenerationJournal.PathFor(Path.Combine(interrupted, "out.json")), "{\"kind\":\"alpaca\",\"unit\":99,\"ans");
            }
        }
        Assert.True(stops >= 3, $"only {stops} interruptions");
        var final = await Run(Options(interrupted, mode, count)); // a rerun after completion changes nothing
        Assert.Equal(reference.Progress with { Answers = 0, Usage = default }, final.Progress with { Answers = 0, Usage = default });
        Assert.Equal(File.ReadAllText(Path.Combine(straight, "out.json")), File.ReadAllText(Path.Combine(interrupted, "out.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(straight, "out.dropped.json")), File.ReadAllText(Path.Combine(interrupted, "out.dropped.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(straight, "out.journal.jsonl")), File.ReadAllText(Path.Combine(interrupted, "out.journal.jsonl")));
    }

    [Fact]
    public async Task Alpaca_KeepsNothingTooSimilar_AndExplainsEveryDrop()
    {
        string dir = TestPaths.NewTempDir();
        var summary = await Run(Options(dir, GenerationMode.Alpaca, 80));
        var records = DataFile.Read<AlpacaRecord>(summary.OutputPath).ToList();
        Assert.Equal(80, records.Count);
        Assert.All(records, r => Assert.Null(InstructionFilter.Check(r.Instruction)));

        // No kept instruction is within the threshold of a seed or an earlier kept one (checked with the reference).
        var vocabulary = new TokenVocabulary();
        var pool = Seeds.Select(s => vocabulary.Tokenize(s.Instruction)).ToList();
        foreach (var r in records)
        {
            var tokens = vocabulary.Tokenize(r.Instruction);
            Assert.Null(RougeLReference.MostSimilar(tokens, pool, 0.7));
            pool.Add(tokens);
        }

        var report = DropReport.Read(summary.DropReportPath);
        Assert.Equal(report.Dropped, report.Candidates.Count);
        Assert.Equal(report.Candidates.Count, report.ByReason.Values.Sum());
        foreach (var reason in new[] { DropReason.TooShort, DropReason.TooLong, DropReason.ForbiddenWord, DropReason.WriteAProgram,
                                       DropReason.LeadingPunctuation, DropReason.NonAsciiStart, DropReason.TooSimilar, DropReason.Unparsable })
            Assert.True(report.ByReason.ContainsKey(reason), $"no {reason} drop");
        foreach (var drop in report.Candidates.Where(d => d.Reason != DropReason.QuotaReached && d.Instruction.Length > 0))
        {
            Assert.NotNull(drop.MostSimilar);
            double score = drop.Score!.Value;
            Assert.Equal(RougeL.Score(drop.Instruction, drop.MostSimilar), score, 12);
            if (drop.Reason == DropReason.TooSimilar)
                Assert.True(score > 0.7);
        }
    }

    [Fact]
    public async Task SelfInstruct_RunsTheFourStages()
    {
        string dir = TestPaths.NewTempDir();
        var summary = await Run(Options(dir, GenerationMode.SelfInstruct, 24));
        var records = DataFile.Read<AlpacaRecord>(summary.OutputPath).ToList();
        Assert.NotEmpty(records);
        Assert.All(records.GroupBy(r => r.Instruction), g => Assert.InRange(g.Count(), 1, 5));
        Assert.All(records, r => Assert.NotEqual(r.Input, r.Output));
        Assert.InRange(records.Select(r => r.Instruction).Distinct().Count(), 10, 24);
        var journal = File.ReadAllLines(summary.JournalPath);
        Assert.Contains(journal, l => l.Contains("\"kind\":\"classify\""));
        Assert.Contains(records, r => r.Output is "Fact" or "Opinion" or "Positive" or "Negative" or "Neutral"); // output-first instances
        var report = DropReport.Read(summary.DropReportPath);
        foreach (var reason in new[] { DropReason.TooSimilar, DropReason.ForbiddenWord, DropReason.OverInstanceLimit, DropReason.NoInstances })
            Assert.True(report.ByReason.ContainsKey(reason), $"no {reason} drop");
        Assert.Contains(report.Candidates, c => c.Stage == "instances" && c.Reason is DropReason.EmptyOutput or DropReason.InputEqualsOutput
                                                                                               or DropReason.EndsWithColon or DropReason.DuplicateInstance);
    }

    [Fact]
    public async Task Resume_WithOtherOptions_IsRefused()
    {
        string dir = TestPaths.NewTempDir();
        await Run(Options(dir, GenerationMode.Alpaca, 10));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Run(Options(dir, GenerationMode.Alpaca, 10) with { Seed = 7 }));
        Assert.Contains("--seed 42 (now 7)", e.Message);
        var more = await Run(Options(dir, GenerationMode.Alpaca, 20)); // a larger --num just continues
        Assert.Equal(20, more.Progress.Records);
        Assert.True(more.ResumedUnits > 0);
    }

    [Fact]
    public async Task ExistingOutputWithoutJournal_IsNotOverwritten()
    {
        string dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "out.json"), "[]");
        await Assert.ThrowsAsync<IOException>(() => Run(Options(dir, GenerationMode.Alpaca, 5)));
        Assert.Equal("[]", File.ReadAllText(Path.Combine(dir, "out.json")));
    }

    [Fact]
    public async Task OverHttp_WithFailures_GivesTheSameRecords()
    {
        string direct = TestPaths.NewTempDir(), overHttp = TestPaths.NewTempDir();
        await Run(Options(direct, GenerationMode.Alpaca, 40));
        await using var server = await ScriptedTeacher.StartAsync(new ScriptedTeacherOptions
        {
            FailFirst = [TeacherFailure.RateLimited, TeacherFailure.ServerError, TeacherFailure.TruncatedBody, TeacherFailure.InvalidJson, TeacherFailure.Slow],
            FailureRate = 0.2,
            SlowDelay = TimeSpan.FromSeconds(2),
        });
        using var teacher = new OpenAiCompatibleTeacher(new TeacherOptions
        {
            BaseUrl = server.Url, Model = "scripted", Concurrency = 3, RequestTimeout = TimeSpan.FromSeconds(3),
            RetryBaseDelay = TimeSpan.FromMilliseconds(5), RetryMaxDelay = TimeSpan.FromMilliseconds(20), RetryAfterLimit = TimeSpan.FromMilliseconds(20),
        });
        var summary = await new SelfInstructGenerator(Options(overHttp, GenerationMode.Alpaca, 40), Seeds, teacher).RunAsync();
        Assert.Equal(File.ReadAllText(Path.Combine(direct, "out.json")), File.ReadAllText(summary.OutputPath));
        Assert.Equal(File.ReadAllText(Path.Combine(direct, "out.dropped.json")), File.ReadAllText(summary.DropReportPath));
        Assert.Equal(5, server.Injected.Count);
        Assert.True(teacher.Retries >= 5);
        Assert.True(summary.Progress.Usage.TotalTokens > 0);
    }
}
