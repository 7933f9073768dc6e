using Camelid.Evaluation.Judging;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Reports;

public sealed record ShowOptions
{
    /// <summary>A judgment file, or a benchmark folder (its <c>model_judgment</c> files).</summary>
    public required string Judgments { get; init; }

    /// <summary>Which results to show; null: whatever the files hold (pairwise files as pairwise-all unless a baseline is given).</summary>
    public JudgeMode? Mode { get; init; }

    /// <summary>For categories; default: <c>question.jsonl</c> beside the <c>model_judgment</c> folder, when there is one.</summary>
    public string? Questions { get; init; }

    /// <summary>Single: the model relative scores are computed against. Pairwise-baseline: the baseline (found from the file when not given).</summary>
    public string? Baseline { get; init; }

    public EloOptions Elo { get; init; } = new();
}

/// <summary>Reads judgment files and aggregates them into an <see cref="EvaluationReport"/>.</summary>
public static class ReportBuilder
{
    public static EvaluationReport Build(ShowOptions options)
    {
        var files = JudgmentFile.Find(options.Judgments);
        var notes = new List<string>();
        var singleFiles = new List<string>();
        var pairFiles = new List<string>();
        foreach (string file in files)
            (JudgmentFile.KindOf(file) == JudgmentKind.Single ? singleFiles : pairFiles).Add(file);

        bool wantSingle = options.Mode is null or JudgeMode.Single;
        bool wantPair = options.Mode is null or JudgeMode.PairwiseAll or JudgeMode.PairwiseBaseline;
        if (wantSingle && singleFiles.Count > 1 || wantPair && pairFiles.Count > 1)
            throw new ArgumentException($"several judgment files in {options.Judgments} ({string.Join(", ", files.Select(Path.GetFileName))}): name one with --judgments FILE");
        if (options.Mode == JudgeMode.Single && singleFiles.Count == 0)
            throw new FileNotFoundException($"no single-grade judgments (*_single.jsonl) in {options.Judgments}");
        if (options.Mode is JudgeMode.PairwiseAll or JudgeMode.PairwiseBaseline && pairFiles.Count == 0)
            throw new FileNotFoundException($"no pairwise judgments (*_pair.jsonl) in {options.Judgments}");

        SingleReport? single = null;
        if (wantSingle && singleFiles.Count == 1)
        {
            var content = JudgmentFile.LoadSingle(singleFiles[0]);
            NoteTornTail(notes, singleFiles[0], content.TornTailBytes);
            var categories = Categories(options, singleFiles[0], notes);
            single = SingleScores.Build(content.Records, categories, options.Baseline);
        }
        PairwiseReport? pairwise = null;
        if (wantPair && pairFiles.Count == 1)
        {
            var content = JudgmentFile.LoadPair(pairFiles[0]);
            NoteTornTail(notes, pairFiles[0], content.TornTailBytes);
            var mode = options.Mode ?? (options.Baseline != null && single == null ? JudgeMode.PairwiseBaseline : JudgeMode.PairwiseAll);
            string? baseline = null;
            if (mode == JudgeMode.PairwiseBaseline)
                baseline = options.Baseline ?? CommonModel(content.Records)
                           ?? throw new ArgumentException($"{pairFiles[0]}: no model is in every pair, so there is no baseline: give --baseline or use --mode pairwise-all");
            pairwise = PairwiseResults.Build(content.Records, JudgeRun.ModeName(mode), baseline, mode == JudgeMode.PairwiseAll ? options.Elo : null);
        }
        if (single == null && pairwise == null)
            throw new FileNotFoundException($"no judgments to show in {options.Judgments}");
        return new EvaluationReport(options.Judgments, single, pairwise, notes);
    }

    /// <summary>
    /// The baseline of a pairwise-baseline file: the one model in every pair, or, when two models share every pair,
    /// the one that is always model_2 (where FastChat and Camelid put the baseline). Null when there is none.
    /// </summary>
    static string? CommonModel(IReadOnlyList<PairJudgment> judgments)
    {
        if (judgments.Count == 0)
            return null;
        var common = new HashSet<string>([judgments[0].Model1, judgments[0].Model2]);
        foreach (var j in judgments)
            common.IntersectWith([j.Model1, j.Model2]);
        if (common.Count == 1)
            return common.First();
        var secondModels = judgments.Select(j => j.Model2).Distinct().ToList();
        return common.Count == 2 && secondModels.Count == 1 ? secondModels[0] : null;
    }

    static IReadOnlyDictionary<QuestionId, string>? Categories(ShowOptions options, string judgmentFile, List<string> notes)
    {
        string? path = options.Questions;
        if (path == null)
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(judgmentFile));
            string? benchmark = folder != null && Path.GetFileName(folder) == JudgmentFile.Folder ? Path.GetDirectoryName(folder) : folder;
            string candidate = Path.Combine(benchmark ?? ".", "question.jsonl");
            if (File.Exists(candidate))
                path = candidate;
        }
        if (path == null)
        {
            notes.Add("no question file (--questions, or question.jsonl beside model_judgment/): scores per category are not shown");
            return null;
        }
        return QuestionFile.Load(path).ToDictionary(q => q.Id, q => q.Category);
    }

    static void NoteTornTail(List<string> notes, string path, long bytes)
    {
        if (bytes > 0)
            notes.Add($"{path} ends with an incomplete line ({bytes} bytes, left by an interrupted run); it was ignored");
    }
}
