using System.Collections.Concurrent;
using Camelid.Data.Teacher;
using Camelid.Evaluation.Answering;
using Camelid.Evaluation.Files;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Judging;

public sealed record JudgeOptions
{
    public required JudgeMode Mode { get; init; }

    /// <summary>The judge's model name, sent in requests and written in every judgment's <c>judge</c>.</summary>
    public required string JudgeModel { get; init; }

    /// <summary>The judgment file (<see cref="JudgmentFile.PathFor"/>).</summary>
    public required string OutputPath { get; init; }

    /// <summary>The model every other one is compared with in pairwise-baseline mode.</summary>
    public string? Baseline { get; init; }

    /// <summary>Only these models (default: every model with an answer file).</summary>
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>Prompts of the mode's kind; null means Camelid's built-in ones.</summary>
    public JudgePromptSet? Prompts { get; init; }

    /// <summary>Categories judged with a reference-guided prompt when the question has a reference (FastChat's NEED_REF_CATS).</summary>
    public IReadOnlySet<string> ReferenceCategories { get; init; } = new HashSet<string>(["math", "reasoning", "coding"], StringComparer.OrdinalIgnoreCase);

    public int MaxTokens { get; init; } = 2048;

    /// <summary>Matches judged at once (a pairwise match sends its two games together).</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Judge again the judgments recorded as failed (unreadable verdicts), instead of keeping them.</summary>
    public bool RetryFailed { get; init; }
}

public sealed record JudgeSummary(string OutputPath, int Judged, int AlreadyJudged, long Failed, IReadOnlyDictionary<string, int> FailureReasons,
                                  int MissingAnswers, int NoPromptForTurn, long TornTailBytes, TeacherUsage Usage, IReadOnlyList<string> PromptNames);

/// <summary>
/// Judges answers with an LLM behind an OpenAI-compatible endpoint, FastChat's gen_judgment in spirit: every
/// turn of every answer gets its own judgment (turn 1 with the single-turn prompt, later turns with the
/// multi-turn prompt that shows the conversation so far), at temperature 0. Pairwise matches are judged in both
/// orders. Each judgment is one appended line; what the file already holds is skipped, so a re-run resumes.
/// Unreadable verdicts are recorded as failed (score -1 / winner "error"); a judge that cannot be reached
/// stops the run.
/// </summary>
public sealed class JudgeRun(JudgeOptions options, ITeacher judge)
{
    readonly ConcurrentDictionary<string, int> _failureReasons = new();
    readonly ConcurrentDictionary<string, byte> _promptsUsed = new();

    public RunProgress Progress { get; } = new();

    JudgeKind Kind => options.Mode == JudgeMode.Single ? JudgeKind.Single : JudgeKind.Pairwise;

    JudgePromptSet Prompts => options.Prompts ?? JudgePromptSet.BuiltIn(Kind);

    public async Task<JudgeSummary> RunAsync(IReadOnlyList<Question> questions,
                                             IReadOnlyDictionary<string, Dictionary<QuestionId, ModelAnswer>> answers,
                                             CancellationToken cancellation)
    {
        if (options.Prompts != null && options.Prompts.Kind != Kind)
            throw new ArgumentException($"the judge prompts are {options.Prompts.Kind} prompts, but --mode {options.Mode} needs {Kind} ones");
        var models = SelectModels(answers);
        return options.Mode == JudgeMode.Single
            ? await RunSingleAsync(questions, answers, models, cancellation)
            : await RunPairwiseAsync(questions, answers, models, cancellation);
    }

    IReadOnlyList<string> SelectModels(IReadOnlyDictionary<string, Dictionary<QuestionId, ModelAnswer>> answers)
    {
        var models = (options.Models ?? answers.Keys.ToList()).Distinct().OrderBy(m => m, StringComparer.Ordinal).ToList();
        foreach (string model in models.Append(options.Baseline).OfType<string>())
            if (!answers.ContainsKey(model))
                throw new ArgumentException($"no answers for model '{model}' (expected model_answer/{model}.jsonl; found: {string.Join(", ", answers.Keys)})");
        if (options.Mode == JudgeMode.PairwiseBaseline && options.Baseline != null && !models.Contains(options.Baseline))
            models.Add(options.Baseline);
        int needed = options.Mode == JudgeMode.Single ? 1 : 2;
        if (models.Count < needed)
            throw new ArgumentException($"--mode {ModeName(options.Mode)} needs answers from at least {needed} models; found {models.Count}");
        return models;
    }

    public static string ModeName(JudgeMode mode) => mode switch
    {
        JudgeMode.Single => "single",
        JudgeMode.PairwiseBaseline => "pairwise-baseline",
        _ => "pairwise-all",
    };

    async Task<JudgeSummary> RunSingleAsync(IReadOnlyList<Question> questions, IReadOnlyDictionary<string, Dictionary<QuestionId, ModelAnswer>> answers,
                                            IReadOnlyList<string> models, CancellationToken cancellation)
    {
        var existing = LoadExisting(JudgmentFile.LoadSingle, SingleJudgment.Write, j => j.Failed);
        var done = existing.Records.Select(j => (j.QuestionId, j.Model, j.Turn)).ToHashSet();
        int missing = 0, noPrompt = 0;
        var matches = new List<(Question Question, string Model, ModelAnswer Answer, int Turn, JudgePrompt Prompt)>();
        foreach (var question in questions)
            for (int turn = 1; turn <= question.Turns.Count; turn++)
                foreach (string model in models)
                {
                    if (!answers[model].TryGetValue(question.Id, out var answer) || answer.Turns.Count < turn)
                    {
                        missing++;
                        continue;
                    }
                    var prompt = Prompts.Select(turn, NeedsReference(question, turn));
                    if (prompt == null)
                        noPrompt++;
                    else if (!done.Contains((question.Id, model, turn)))
                        matches.Add((question, model, answer, turn, prompt));
                }
        Progress.Total = matches.Count + done.Count;
        Progress.Skipped = done.Count;

        using (var appender = new JsonLinesAppender<SingleJudgment>(options.OutputPath, SingleJudgment.Write, existing.TornTailBytes))
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellation };
            await Parallel.ForEachAsync(matches, parallel, async (match, token) =>
            {
                var values = JudgePromptValues.Single(match.Question, match.Answer.Turns, match.Turn);
                var (userPrompt, judgment) = await AskAsync(match.Prompt, values, token);
                var verdict = VerdictParser.ParseRating(judgment);
                CountFailure(verdict.Failure);
                appender.Append(new SingleJudgment(match.Question.Id, match.Model, new JudgeId(options.JudgeModel, match.Prompt.Name), userPrompt,
                                                   judgment, verdict.Score ?? SingleJudgment.FailedScore, match.Turn, JsonFields.UnixSeconds(DateTimeOffset.UtcNow)));
                Progress.CountDone(verdict.Failed);
            });
        }
        return Summary(matches.Count, done.Count, missing, noPrompt, existing.TornTailBytes);
    }

    async Task<JudgeSummary> RunPairwiseAsync(IReadOnlyList<Question> questions, IReadOnlyDictionary<string, Dictionary<QuestionId, ModelAnswer>> answers,
                                              IReadOnlyList<string> models, CancellationToken cancellation)
    {
        var existing = LoadExisting(JudgmentFile.LoadPair, PairJudgment.Write, j => j.Failed);
        var done = existing.Records.Select(j => PairKey(j.QuestionId, j.Model1, j.Model2, j.Turn)).ToHashSet();
        var pairs = Pairing.Pairs(options.Mode, models, options.Baseline);
        int missing = 0, noPrompt = 0;
        var matches = new List<(Question Question, string Model1, string Model2, ModelAnswer Answer1, ModelAnswer Answer2, int Turn, JudgePrompt Prompt)>();
        foreach (var question in questions)
            for (int turn = 1; turn <= question.Turns.Count; turn++)
                foreach (var (model1, model2) in pairs)
                {
                    if (!answers[model1].TryGetValue(question.Id, out var answer1) || answer1.Turns.Count < turn
                        || !answers[model2].TryGetValue(question.Id, out var answer2) || answer2.Turns.Count < turn)
                    {
                        missing++;
                        continue;
                    }
                    var prompt = Prompts.Select(turn, NeedsReference(question, turn));
                    if (prompt == null)
                        noPrompt++;
                    else if (!done.Contains(PairKey(question.Id, model1, model2, turn)))
                        matches.Add((question, model1, model2, answer1, answer2, turn, prompt));
                }
        Progress.Total = matches.Count + done.Count;
        Progress.Skipped = done.Count;

        using (var appender = new JsonLinesAppender<PairJudgment>(options.OutputPath, PairJudgment.Write, existing.TornTailBytes))
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellation };
            await Parallel.ForEachAsync(matches, parallel, async (match, token) =>
            {
                var game1 = GameAsync(match.Prompt, match.Question, match.Answer1, match.Answer2, match.Turn, token);
                var game2 = GameAsync(match.Prompt, match.Question, match.Answer2, match.Answer1, match.Turn, token);
                var (prompt1, judgment1, verdict1) = await game1;
                var (prompt2, judgment2, verdict2) = await game2;
                var record = new PairJudgment(match.Question.Id, match.Model1, match.Model2,
                                              Pairing.Winner(verdict1.Winner, swapped: false), Pairing.Winner(verdict2.Winner, swapped: true),
                                              new JudgeId(options.JudgeModel, match.Prompt.Name), prompt1, judgment1, prompt2, judgment2,
                                              match.Turn, JsonFields.UnixSeconds(DateTimeOffset.UtcNow));
                appender.Append(record);
                Progress.CountDone(record.Failed);
            });
        }
        return Summary(matches.Count, done.Count, missing, noPrompt, existing.TornTailBytes);
    }

    async Task<(string UserPrompt, string Judgment, PairVerdict Verdict)> GameAsync(JudgePrompt prompt, Question question, ModelAnswer shownAsA,
                                                                                   ModelAnswer shownAsB, int turn, CancellationToken cancellation)
    {
        var values = JudgePromptValues.Pair(question, shownAsA.Turns, shownAsB.Turns, turn);
        var (userPrompt, judgment) = await AskAsync(prompt, values, cancellation);
        var verdict = VerdictParser.ParsePair(judgment, prompt.OutputFormat);
        CountFailure(verdict.Failure);
        return (userPrompt, judgment, verdict);
    }

    static (QuestionId, string, string, int) PairKey(QuestionId question, string model1, string model2, int turn) =>
        string.CompareOrdinal(model1, model2) <= 0 ? (question, model1, model2, turn) : (question, model2, model1, turn);

    bool NeedsReference(Question question, int turn) =>
        question.Reference != null && question.Reference.Count >= turn && options.ReferenceCategories.Contains(question.Category);

    async Task<(string UserPrompt, string Judgment)> AskAsync(JudgePrompt prompt, IReadOnlyDictionary<string, string> values, CancellationToken cancellation)
    {
        _promptsUsed.TryAdd(prompt.Name, 0);
        string userPrompt;
        try
        {
            userPrompt = PromptTemplate.Format(prompt.Template, values);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"judge prompt '{prompt.Name}': {e.Message}", e);
        }
        var messages = new List<TeacherMessage>();
        if (!string.IsNullOrEmpty(prompt.SystemPrompt))
            messages.Add(new TeacherMessage("system", prompt.SystemPrompt));
        messages.Add(new TeacherMessage("user", userPrompt));
        var completion = await judge.CompleteAsync(new TeacherRequest { Messages = messages, Temperature = 0, MaxTokens = options.MaxTokens }, cancellation);
        Progress.AddUsage(completion);
        return (userPrompt, completion.Text);
    }

    void CountFailure(string? reason)
    {
        if (reason != null)
            _failureReasons.AddOrUpdate(reason, 1, (_, n) => n + 1);
    }

    /// <summary>The file's judgments so far; with <see cref="JudgeOptions.RetryFailed"/>, failed ones are removed first (file replaced atomically).</summary>
    JsonLinesContent<T> LoadExisting<T>(Func<string, JsonLinesContent<T>> load, Action<System.Text.Json.Utf8JsonWriter, T> write, Func<T, bool> failed)
    {
        if (!File.Exists(options.OutputPath))
            return new JsonLinesContent<T>([], 0);
        var existing = load(options.OutputPath);
        if (!options.RetryFailed || !existing.Records.Any(failed))
            return existing;
        var kept = existing.Records.Where(r => !failed(r)).ToList();
        JsonLines.Replace(options.OutputPath, kept, write);
        return new JsonLinesContent<T>(kept, 0);
    }

    JudgeSummary Summary(int judged, int alreadyJudged, int missing, int noPrompt, long tornTail) =>
        new(options.OutputPath, judged, alreadyJudged, Progress.Failed, new Dictionary<string, int>(_failureReasons), missing, noPrompt, tornTail,
            Progress.Usage, _promptsUsed.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList());
}
