using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Camelid.Data.Formats;
using Camelid.Data.Teacher;

namespace Camelid.Data.Instructions;

/// <summary>
/// Generates instruction data with a teacher model, resumably and exactly once (see docs/data-generation.md):
/// <list type="bullet">
/// <item><see cref="GenerationMode.Alpaca"/>: Alpaca's generate_instruction.py — each prompt shows 3 seed tasks
/// and asks for a list of 20; the tasks are parsed, filtered and deduplicated by ROUGE-L.</item>
/// <item><see cref="GenerationMode.SelfInstruct"/>: the Self-Instruct paper's four stages — bootstrap instructions,
/// classify each, generate instances (output-first for classification), prepare fine-tuning data.</item>
/// </list>
/// Requests are grouped in units of <see cref="SelfInstructOptions.Batch"/> prompts whose randomness comes from
/// (seed, unit) alone; units run concurrently but commit in order to the journal, one fsynced line each. A rerun
/// of the same command reads the journal and continues, so an interrupted run and an uninterrupted one give
/// the same records when the teacher gives the same answers. The output and the drop report are rewritten
/// from the journal (atomically) at the end, when the run stops for any reason, and every
/// <see cref="SelfInstructOptions.SnapshotInterval"/>.
/// </summary>
public sealed class SelfInstructGenerator
{
    // Independent random streams, so that adding a use of randomness in one place does not shift another.
    const int AlpacaPromptStream = 1, BootstrapStream = 2, ClassificationStream = 3, InstancesStream = 4, InstanceSampleStream = 5;

    readonly SelfInstructOptions _options;
    readonly IReadOnlyList<SeedTask> _seeds;
    readonly IReadOnlyList<string> _seedInstructions;
    readonly ITeacher _teacher;
    readonly int _maxParallelism;
    GenerationState _state = null!;
    GenerationJournal _journal = null!;
    Action<GenerationProgress>? _onCommit;
    string _stage = "";
    int _lag;
    int _committedThisSession;
    readonly Stopwatch _sinceSnapshot = new();

    /// <param name="maxParallelism">Cores for the similarity search (0: all).</param>
    public SelfInstructGenerator(SelfInstructOptions options, IReadOnlyList<SeedTask> seeds, ITeacher teacher, int maxParallelism = 0)
    {
        _options = options;
        _seeds = seeds;
        _seedInstructions = [.. seeds.Select(s => s.Instruction)];
        _teacher = teacher;
        _maxParallelism = maxParallelism;
    }

    /// <summary>The latest progress (updated after every committed unit).</summary>
    public GenerationProgress Progress { get; private set; } = new() { Stage = "starting" };

    int UnitsInFlight => (_options.Concurrency + _options.Batch - 1) / _options.Batch + 1;

    /// <summary>
    /// Runs (or continues) the generation. Cancellation and teacher failures propagate as exceptions, after the
    /// outputs were rewritten from what the journal holds; rerun to continue.
    /// </summary>
    /// <param name="onCommit">Called after each unit is committed (on the run's own flow; keep it short).</param>
    public async Task<GenerationSummary> RunAsync(Action<GenerationProgress>? onCommit = null, CancellationToken cancellation = default)
    {
        _options.Validate(_seeds.Count);
        _onCommit = onCommit;
        string journalPath = _options.ResolvedJournalPath;
        if (File.Exists(_options.OutputPath) && (!File.Exists(journalPath) || new FileInfo(journalPath).Length == 0))
            throw new IOException($"{_options.OutputPath} exists but has no journal ({journalPath}) saying how it was made: " +
                                  "choose another --out, or delete the file to start over");
        using var journal = GenerationJournal.Open(journalPath);
        _journal = journal;
        DeleteLeftovers(_options.OutputPath);
        DeleteLeftovers(_options.ResolvedDropReportPath);
        var header = NewHeader();
        if (journal.Entries.Count == 0)
            journal.Append(header);
        else
        {
            if (journal.Entries[0] is not JournalHeader saved)
                throw new DataFormatException($"{journal.Path}: the first line is not a journal header; delete the journal to start over");
            CheckSameOptions(saved, header, journal.Path);
            header = saved;
        }
        _lag = header.MachineExampleLag;
        _state = new GenerationState(_seedInstructions, _maxParallelism);
        foreach (var entry in journal.Entries.Skip(1))
        {
            try
            {
                _state.Apply(entry, indexed: false);
            }
            catch (DataFormatException e)
            {
                throw new DataFormatException($"{journal.Path}: {e.Message}; delete the journal to start over", e);
            }
        }

        _sinceSnapshot.Restart();
        try
        {
            if (_options.Mode == GenerationMode.Alpaca)
                await RunAlpacaAsync(cancellation);
            else
                await RunSelfInstructAsync(cancellation);
        }
        finally
        {
            WriteOutputs();
        }
        return new GenerationSummary
        {
            Progress = Progress,
            OutputPath = _options.OutputPath,
            DropReportPath = _options.ResolvedDropReportPath,
            JournalPath = journal.Path,
            ResumedUnits = Math.Max(0, journal.Entries.Count - 1),
            RepairedBytes = journal.CutBytes,
        };
    }

    // ---- Alpaca ----

    async Task RunAlpacaAsync(CancellationToken cancellation)
    {
        _stage = "generate";
        UpdateProgress();
        if (_state.Records.Count >= _options.Count)
            return;
        await OrderedUnits.RunAsync(_state.NextGenerationUnit, int.MaxValue, UnitsInFlight, int.MaxValue,
            (unit, token) => AskAsync(AlpacaRequests(unit), token),
            (unit, answers) =>
            {
                CommitAlpaca(unit, answers);
                return _state.Records.Count < _options.Count;
            }, cancellation);
    }

    List<TeacherRequest> AlpacaRequests(int unit)
    {
        var random = new DeterministicRandom(_options.Seed, AlpacaPromptStream, unit);
        var requests = new List<TeacherRequest>();
        for (int p = 0; p < _options.Batch; p++)
        {
            var examples = random.Sample(_seeds, _options.ResolvedPromptInstructions); // Alpaca samples seed tasks only
            requests.Add(new TeacherRequest
            {
                Prompt = AlpacaPrompt.Encode(_options.ResolvedPromptTemplate, examples),
                Temperature = _options.ResolvedTemperature,
                TopP = _options.ResolvedTopP,
                MaxTokens = _options.ResolvedMaxTokens,
                Stop = AlpacaPrompt.Stop,
                Seed = random.NextSeed(),
            });
        }
        return requests;
    }

    void CommitAlpaca(int unit, TeacherCompletion[] answers)
    {
        var kept = new List<AlpacaRecord>();
        var dropped = new List<DroppedCandidate>();
        foreach (var answer in answers)
            foreach (var candidate in AlpacaResponseParser.Parse(answer.Text, answer.Truncated))
            {
                bool full = _state.Records.Count + kept.Count >= _options.Count;
                var drop = Judge(candidate, full, unit, "generate");
                if (drop == null)
                    kept.Add(new AlpacaRecord(candidate.Instruction, candidate.Input, candidate.Output));
                else
                    dropped.Add(drop);
            }
        Commit(new AlpacaUnit(unit, [.. answers.Select(TeacherExchange.From)], kept, dropped));
    }

    // ---- Self-Instruct ----

    async Task RunSelfInstructAsync(CancellationToken cancellation)
    {
        _stage = "bootstrap";
        UpdateProgress();
        if (_state.Tasks.Count < _options.Count)
            await OrderedUnits.RunAsync(_state.NextGenerationUnit, int.MaxValue, UnitsInFlight, _lag,
                (unit, token) => AskAsync(BootstrapRequests(unit), token),
                (unit, answers) =>
                {
                    CommitBootstrap(unit, answers);
                    return _state.Tasks.Count < _options.Count;
                }, cancellation);

        int tasks = Math.Min(_options.Count, _state.Tasks.Count);
        _stage = "classify";
        UpdateProgress();
        var unclassified = Enumerable.Range(0, tasks).Where(t => !_state.IsClassification.ContainsKey(t)).Chunk(_options.Batch).ToList();
        int firstClassification = _state.NextClassificationUnit;
        await OrderedUnits.RunAsync(0, unclassified.Count, UnitsInFlight, int.MaxValue,
            (u, token) => AskAsync([.. unclassified[u].Select(ClassificationRequest)], token),
            (u, answers) =>
            {
                var group = unclassified[u];
                Commit(new ClassificationUnit(firstClassification + u, [.. answers.Select(TeacherExchange.From)], group,
                                              [.. answers.Select(a => SelfInstructParsers.IsClassification(a.Text))]));
                return true;
            }, cancellation);

        _stage = "instances";
        UpdateProgress();
        var pending = Enumerable.Range(0, tasks).Where(t => !_state.TaskRecords.ContainsKey(t)).Chunk(_options.Batch).ToList();
        int firstInstances = _state.NextInstancesUnit;
        await OrderedUnits.RunAsync(0, pending.Count, UnitsInFlight, int.MaxValue,
            (u, token) => AskAsync([.. pending[u].Select(InstancesRequest)], token),
            (u, answers) =>
            {
                CommitInstances(firstInstances + u, pending[u], answers);
                return true;
            }, cancellation);
    }

    List<TeacherRequest> BootstrapRequests(int unit)
    {
        var random = new DeterministicRandom(_options.Seed, BootstrapStream, unit);
        int machinePool = _state.TasksBeforeUnit(unit - _lag); // only what any timing would have committed by now
        int examples = _options.ResolvedPromptInstructions;
        var requests = new List<TeacherRequest>();
        for (int p = 0; p < _options.Batch; p++)
        {
            // Self-Instruct: up to 2 machine-written instructions, the rest human-written, shuffled.
            var shown = random.SampleIndices(machinePool, Math.Min(2, examples - 1)).Select(i => _state.Tasks[i]).ToList();
            shown.AddRange(random.Sample(_seedInstructions, examples - shown.Count));
            random.Shuffle(shown);
            requests.Add(new TeacherRequest
            {
                Prompt = SelfInstructPrompts.Bootstrap(shown),
                Temperature = _options.ResolvedTemperature,
                TopP = _options.ResolvedTopP,
                MaxTokens = _options.ResolvedMaxTokens,
                PresencePenalty = SelfInstructPrompts.BootstrapPresencePenalty,
                Stop = SelfInstructPrompts.BootstrapStop(_options.Endpoint == TeacherEndpoint.Chat),
                Seed = random.NextSeed(),
            });
        }
        return requests;
    }

    void CommitBootstrap(int unit, TeacherCompletion[] answers)
    {
        var kept = new List<string>();
        var dropped = new List<DroppedCandidate>();
        foreach (var answer in answers)
            foreach (var candidate in SelfInstructParsers.Bootstrap(answer.Text, answer.Truncated, _options.Endpoint == TeacherEndpoint.Chat))
            {
                bool full = _state.Tasks.Count + kept.Count >= _options.Count;
                var drop = Judge(candidate, full, unit, "bootstrap");
                if (drop == null)
                    kept.Add(candidate.Instruction);
                else
                    dropped.Add(drop);
            }
        Commit(new BootstrapUnit(unit, [.. answers.Select(TeacherExchange.From)], kept, dropped));
    }

    // Stages 2 and 3 decode greedily (temperature 0), as Self-Instruct did; top-p stays 1 because some servers reject 0.
    TeacherRequest ClassificationRequest(int task) => new()
    {
        Prompt = SelfInstructPrompts.Classification(_state.Tasks[task]),
        Temperature = 0,
        MaxTokens = SelfInstructPrompts.ClassificationMaxTokens,
        Stop = SelfInstructPrompts.ClassificationStop,
        Seed = new DeterministicRandom(_options.Seed, ClassificationStream, task).NextSeed(),
    };

    TeacherRequest InstancesRequest(int task)
    {
        bool classification = _state.IsClassification[task];
        return new TeacherRequest
        {
            Prompt = SelfInstructPrompts.Instances(_state.Tasks[task], classification),
            Temperature = 0,
            MaxTokens = classification ? SelfInstructPrompts.InstancesMaxTokensForClassification : SelfInstructPrompts.InstancesMaxTokens,
            PresencePenalty = SelfInstructPrompts.InstancesPresencePenalty,
            Stop = SelfInstructPrompts.InstancesStop(_options.MaxInstancesPerTask),
            Seed = new DeterministicRandom(_options.Seed, InstancesStream, task).NextSeed(),
        };
    }

    void CommitInstances(int unit, int[] tasks, TeacherCompletion[] answers)
    {
        var records = new List<IReadOnlyList<AlpacaRecord>>();
        var dropped = new List<DroppedCandidate>();
        for (int i = 0; i < tasks.Length; i++)
        {
            string instruction = _state.Tasks[tasks[i]];
            var prepared = InstancePreparation.Prepare(answers[i].Text, _state.IsClassification[tasks[i]], answers[i].Truncated,
                new DeterministicRandom(_options.Seed, InstanceSampleStream, tasks[i]), _options.MaxInstancesPerTask);
            records.Add([.. InstancePreparation.ToRecords(instruction, prepared.Kept)]);
            dropped.AddRange(prepared.Dropped.Select(d => new DroppedCandidate
            {
                Unit = unit, Stage = "instances", Reason = d.Reason, Detail = d.Detail,
                Instruction = instruction, Input = d.Instance.Input, Output = d.Instance.Output,
            }));
            if (prepared.NoInstancesDetail != null)
                dropped.Add(new DroppedCandidate { Unit = unit, Stage = "instances", Reason = DropReason.NoInstances, Detail = prepared.NoInstancesDetail, Instruction = instruction });
        }
        Commit(new InstancesUnit(unit, [.. answers.Select(TeacherExchange.From)], tasks, records, dropped));
    }

    // ---- shared ----

    Task<TeacherCompletion[]> AskAsync(List<TeacherRequest> requests, CancellationToken cancellation) =>
        Task.WhenAll(requests.Select(r => _teacher.CompleteAsync(r, cancellation)));

    /// <summary>
    /// Null when the candidate is kept (it is then added to the index), else why not. Parse problems and filter
    /// failures are reported with the most similar kept instruction overall; ROUGE-L drops with the one above
    /// the threshold (the most similar of those).
    /// </summary>
    DroppedCandidate? Judge(ParsedCandidate candidate, bool quotaReached, int unit, string stage)
    {
        var drop = new DroppedCandidate
        {
            Unit = unit, Stage = stage, Reason = "", Instruction = candidate.Instruction, Input = candidate.Input, Output = candidate.Output,
        };
        if (quotaReached)
            return drop with { Reason = DropReason.QuotaReached, Detail = $"--num {_options.Count} reached" };
        string? reason = candidate.Problem, detail = candidate.Detail;
        if (reason == null && InstructionFilter.Check(candidate.Instruction) is { } verdict)
            (reason, detail) = (verdict.Reason, verdict.Detail);
        var tokens = _state.Index.Tokenize(candidate.Instruction);
        var match = _state.Index.MostSimilar(tokens, reason == null ? _options.RougeThreshold : -1);
        if (reason == null && match == null)
        {
            _state.Index.Add(candidate.Instruction, tokens);
            return null;
        }
        return drop with
        {
            Reason = reason ?? DropReason.TooSimilar,
            Detail = detail,
            MostSimilar = match is { } m ? _state.Index[m.Index] : null,
            Score = match?.Score,
        };
    }

    void Commit(JournalEntry entry)
    {
        _journal.Append(entry);
        _committedThisSession++;
        _state.Apply(entry, indexed: true);
        UpdateProgress();
        _onCommit?.Invoke(Progress);
        if (_sinceSnapshot.Elapsed >= _options.SnapshotInterval)
            WriteOutputs();
    }

    void UpdateProgress()
    {
        int tasks = Math.Min(_options.Count, _state.Tasks.Count);
        (int done, int target) = _stage switch
        {
            "generate" => (Math.Min(_state.Records.Count, _options.Count), _options.Count),
            "bootstrap" => (tasks, _options.Count),
            "classify" => (Enumerable.Range(0, tasks).Count(_state.IsClassification.ContainsKey), tasks),
            "instances" => (Enumerable.Range(0, tasks).Count(_state.TaskRecords.ContainsKey), tasks),
            _ => (0, _options.Count),
        };
        Progress = new GenerationProgress
        {
            Stage = _stage, Done = done, Target = target, Records = RecordCount(), Dropped = _state.Dropped.Count,
            Answers = _state.Answers, Usage = _state.Usage,
        };
    }

    int RecordCount() => _options.Mode == GenerationMode.Alpaca
        ? Math.Min(_state.Records.Count, _options.Count)
        : Enumerable.Range(0, Math.Min(_options.Count, _state.Tasks.Count)).Sum(t => _state.TaskRecords.GetValueOrDefault(t)?.Count ?? 0);

    IEnumerable<AlpacaRecord> OutputRecords() => _options.Mode == GenerationMode.Alpaca
        ? _state.Records.Take(_options.Count)
        : _state.TaskOutput(_options.Count);

    /// <summary>Rewrites the output and the drop report from the committed state, each atomically.</summary>
    void WriteOutputs()
    {
        if (_state == null || (_journal.Entries.Count <= 1 && _committedThisSession == 0 && !File.Exists(_options.OutputPath)))
            return; // nothing finished yet: no output to show (a failed first request leaves no empty file behind)
        DataFile.Write(_options.OutputPath, OutputRecords(), _options.OutputLayout);
        DropReport.Write(_options.ResolvedDropReportPath, _options.Mode, Progress.Records, _state.Dropped);
        _sinceSnapshot.Restart();
    }

    /// <summary>
    /// Removes "FILE.*.tmp" files a killed run left while rewriting FILE (the rename never happened). Safe: this
    /// run holds the journal's lock, so no other run is writing them.
    /// </summary>
    static void DeleteLeftovers(string path)
    {
        string full = Path.GetFullPath(path), directory = Path.GetDirectoryName(full)!;
        if (Directory.Exists(directory))
            foreach (var leftover in Directory.EnumerateFiles(directory, Path.GetFileName(full) + ".*.tmp"))
                File.Delete(leftover);
    }

    JournalHeader NewHeader() => new()
    {
        Mode = _options.Mode == GenerationMode.Alpaca ? "alpaca" : "self-instruct",
        Seed = _options.Seed,
        TeacherModel = _options.TeacherModel,
        Endpoint = _options.Endpoint == TeacherEndpoint.Chat ? "chat" : "completions",
        Temperature = _options.ResolvedTemperature,
        TopP = _options.ResolvedTopP,
        MaxTokens = _options.ResolvedMaxTokens,
        PromptInstructions = _options.ResolvedPromptInstructions,
        Batch = _options.Batch,
        RougeThreshold = _options.RougeThreshold,
        MaxInstances = _options.MaxInstancesPerTask,
        SeedTasksSha256 = Sha256(JsonSerializer.Serialize(_seeds)),
        PromptSha256 = Sha256(_options.Mode == GenerationMode.Alpaca ? _options.ResolvedPromptTemplate : ""),
        MachineExampleLag = UnitsInFlight - 1,
    };

    static void CheckSameOptions(JournalHeader saved, JournalHeader now, string path)
    {
        var differences = new List<string>();
        void Compare<T>(string option, T then, T current)
        {
            if (!EqualityComparer<T>.Default.Equals(then, current))
                differences.Add($"{option} {then} (now {current})");
        }
        Compare("--mode", saved.Mode, now.Mode);
        Compare("--seed", saved.Seed, now.Seed);
        Compare("--teacher-model", saved.TeacherModel, now.TeacherModel);
        Compare("--endpoint", saved.Endpoint, now.Endpoint);
        Compare("--temperature", saved.Temperature, now.Temperature);
        Compare("--top-p", saved.TopP, now.TopP);
        Compare("--max-tokens", saved.MaxTokens, now.MaxTokens);
        Compare("--prompt-instructions", saved.PromptInstructions, now.PromptInstructions);
        Compare("--batch", saved.Batch, now.Batch);
        Compare("--rouge-threshold", saved.RougeThreshold, now.RougeThreshold);
        Compare("instance limit", saved.MaxInstances, now.MaxInstances);
        if (saved.SeedTasksSha256 != now.SeedTasksSha256)
            differences.Add("--seed-tasks (different tasks)");
        if (saved.PromptSha256 != now.PromptSha256)
            differences.Add("--prompt-file (different text)");
        if (saved.Version != JournalHeader.CurrentVersion)
            differences.Add($"journal version {saved.Version} (this camelid writes {JournalHeader.CurrentVersion})");
        if (differences.Count > 0)
            throw new ArgumentException($"{path} was started with {string.Join(", ", differences)}: rerun with the same options to continue, " +
                                        "or choose another --out (or delete the journal) to start over");
    }

    static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
