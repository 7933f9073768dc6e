using Camelid.Data.Formats;
using Camelid.Data.Teacher;

namespace Camelid.Data.Instructions;

/// <summary>
/// Everything a run knows, rebuilt from the journal on start and extended as units commit: the similarity index
/// (seed instructions, then every kept instruction in order), the records, Self-Instruct's tasks and their
/// classification and instances, the drops, and the teacher's token counts.
/// </summary>
sealed class GenerationState
{
    public SimilarityIndex Index { get; }

    /// <summary>Alpaca mode: the kept records, in order.</summary>
    public List<AlpacaRecord> Records { get; } = [];

    /// <summary>Self-Instruct: the kept instructions (tasks, by index) and the unit that kept each.</summary>
    public List<string> Tasks { get; } = [];
    public List<int> TaskUnits { get; } = [];

    public Dictionary<int, bool> IsClassification { get; } = [];
    public Dictionary<int, IReadOnlyList<AlpacaRecord>> TaskRecords { get; } = [];
    public List<DroppedCandidate> Dropped { get; } = [];

    /// <summary>Next unit number of each journal kind.</summary>
    public int NextGenerationUnit { get; private set; }
    public int NextClassificationUnit { get; private set; }
    public int NextInstancesUnit { get; private set; }

    public long Answers { get; private set; }
    public TeacherUsage Usage { get; private set; }

    public GenerationState(IEnumerable<string> seedInstructions, int maxParallelism = 0)
    {
        Index = new SimilarityIndex(maxParallelism);
        foreach (var instruction in seedInstructions)
            Index.Add(instruction);
    }

    /// <summary>Adds a committed entry. <paramref name="indexed"/>: its kept instructions are already in the index (added while judging).</summary>
    public void Apply(JournalEntry entry, bool indexed)
    {
        switch (entry)
        {
            case AlpacaUnit a:
                Expect(a.Unit, NextGenerationUnit, "alpaca");
                foreach (var record in a.Kept)
                {
                    Records.Add(record);
                    if (!indexed)
                        Index.Add(record.Instruction);
                }
                Finish(a.Answers, a.Dropped);
                NextGenerationUnit = a.Unit + 1;
                break;
            case BootstrapUnit b:
                Expect(b.Unit, NextGenerationUnit, "bootstrap");
                foreach (var instruction in b.Kept)
                {
                    Tasks.Add(instruction);
                    TaskUnits.Add(b.Unit);
                    if (!indexed)
                        Index.Add(instruction);
                }
                Finish(b.Answers, b.Dropped);
                NextGenerationUnit = b.Unit + 1;
                break;
            case ClassificationUnit c:
                for (int i = 0; i < c.Tasks.Count; i++)
                    IsClassification[c.Tasks[i]] = c.IsClassification[i];
                Finish(c.Answers, []);
                NextClassificationUnit = c.Unit + 1;
                break;
            case InstancesUnit s:
                for (int i = 0; i < s.Tasks.Count; i++)
                    TaskRecords[s.Tasks[i]] = s.Records[i];
                Finish(s.Answers, s.Dropped);
                NextInstancesUnit = s.Unit + 1;
                break;
            case JournalHeader:
                throw new DataFormatException("a second journal header");
        }
    }

    /// <summary>Self-Instruct: how many tasks were kept by units before <paramref name="unit"/> (they form a prefix of <see cref="Tasks"/>).</summary>
    public int TasksBeforeUnit(int unit)
    {
        int lo = 0, hi = TaskUnits.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (TaskUnits[mid] < unit) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>Self-Instruct's output: each task's records, tasks in order, the first <paramref name="taskCount"/> tasks.</summary>
    public IEnumerable<AlpacaRecord> TaskOutput(int taskCount) =>
        Enumerable.Range(0, Math.Min(taskCount, Tasks.Count)).SelectMany(t => TaskRecords.GetValueOrDefault(t) ?? []);

    void Finish(IReadOnlyList<TeacherExchange> answers, IReadOnlyList<DroppedCandidate> dropped)
    {
        foreach (var answer in answers)
            Usage += answer.Usage;
        Answers += answers.Count;
        Dropped.AddRange(dropped);
    }

    static void Expect(int unit, int expected, string kind)
    {
        if (unit != expected)
            throw new DataFormatException($"the journal's {kind} units are out of order: found unit {unit} where {expected} was expected");
    }
}
