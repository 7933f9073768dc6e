using Camelid.Data.Teacher;
using Camelid.Evaluation.Files;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Answering;

public sealed record AnswerOptions
{
    /// <summary>The name written in <c>model_id</c> and in the file name.</summary>
    public required string ModelId { get; init; }

    /// <summary>The answer file, usually <c>DIR/model_answer/{ModelId}.jsonl</c>.</summary>
    public required string OutputPath { get; init; }

    public int MaxTokens { get; init; } = 1024;

    public CategoryTemperatures Temperatures { get; init; } = new();

    /// <summary>Sent first in every conversation when set; FastChat's API answers send none.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>Questions answered at once (each question's turns go one after another).</summary>
    public int Concurrency { get; init; } = 4;
}

/// <summary>Counters for the progress line; read while the run goes on.</summary>
public sealed class RunProgress
{
    long _done, _failed, _promptTokens, _completionTokens, _truncated;

    public int Total { get; internal set; }
    public int Skipped { get; internal set; }
    public long Done => Interlocked.Read(ref _done);

    /// <summary>Judgments whose verdict could not be read (recorded as failed).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Answers cut at the token limit (kept as they are, as FastChat does).</summary>
    public long Truncated => Interlocked.Read(ref _truncated);

    public TeacherUsage Usage => new(Interlocked.Read(ref _promptTokens), Interlocked.Read(ref _completionTokens));

    internal void AddUsage(TeacherCompletion completion)
    {
        Interlocked.Add(ref _promptTokens, completion.Usage.PromptTokens);
        Interlocked.Add(ref _completionTokens, completion.Usage.CompletionTokens);
        if (completion.Truncated)
            Interlocked.Increment(ref _truncated);
    }

    internal void CountDone(bool failed = false)
    {
        Interlocked.Increment(ref _done);
        if (failed)
            Interlocked.Increment(ref _failed);
    }
}

public sealed record AnswerSummary(string OutputPath, int Answered, int AlreadyAnswered, long TornTailBytes, long Truncated, TeacherUsage Usage);

/// <summary>
/// Answers benchmark questions with a model behind an OpenAI-compatible endpoint, FastChat's gen_api_answer in
/// spirit: every turn of a question in one conversation (the model sees its own earlier answers), a temperature
/// per category, one appended line per finished question. Questions already in the file are skipped, so a
/// re-run after Ctrl+C or a crash continues where it stopped; at the end the file is rewritten sorted by
/// question id (FastChat's reorg_answer_file).
/// </summary>
public sealed class AnswerGenerator(AnswerOptions options, ITeacher model)
{
    public RunProgress Progress { get; } = new();

    public async Task<AnswerSummary> RunAsync(IReadOnlyList<Question> questions, CancellationToken cancellation)
    {
        ModelAnswerFile.ValidateModelId(options.ModelId);
        var existing = File.Exists(options.OutputPath) ? ModelAnswerFile.Load(options.OutputPath) : new JsonLinesContent<ModelAnswer>([], 0);
        var answered = ModelAnswerFile.ByQuestion(existing.Records);
        var pending = questions.Where(q => !(answered.TryGetValue(q.Id, out var a) && a.Turns.Count >= q.Turns.Count)).ToList();
        Progress.Total = questions.Count;
        Progress.Skipped = questions.Count - pending.Count;

        using (var appender = new JsonLinesAppender<ModelAnswer>(options.OutputPath, ModelAnswer.Write, existing.TornTailBytes))
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellation };
            await Parallel.ForEachAsync(pending, parallel, async (question, token) =>
            {
                var turns = await AnswerAsync(question, token);
                appender.Append(new ModelAnswer(question.Id, ModelAnswer.NewAnswerId(), options.ModelId, [new AnswerChoice(0, turns)],
                                                JsonFields.UnixSeconds(DateTimeOffset.UtcNow)));
                Progress.CountDone();
            });
        }

        var all = ModelAnswerFile.ByQuestion(ModelAnswerFile.Load(options.OutputPath).Records);
        JsonLines.Replace(options.OutputPath, all.Values.OrderBy(a => a.QuestionId), ModelAnswer.Write);
        return new AnswerSummary(options.OutputPath, pending.Count, Progress.Skipped, existing.TornTailBytes, Progress.Truncated, Progress.Usage);
    }

    async Task<IReadOnlyList<string>> AnswerAsync(Question question, CancellationToken cancellation)
    {
        var messages = new List<TeacherMessage>();
        if (!string.IsNullOrEmpty(options.SystemPrompt))
            messages.Add(new TeacherMessage("system", options.SystemPrompt));
        var answers = new List<string>(question.Turns.Count);
        double temperature = options.Temperatures.For(question.Category);
        foreach (string turn in question.Turns)
        {
            messages.Add(new TeacherMessage("user", turn));
            var completion = await model.CompleteAsync(new TeacherRequest
            {
                Messages = [.. messages],
                Temperature = temperature,
                MaxTokens = options.MaxTokens,
            }, cancellation);
            Progress.AddUsage(completion);
            string answer = completion.Text.Trim();
            answers.Add(answer);
            messages.Add(new TeacherMessage("assistant", answer));
        }
        return answers;
    }
}
