using System.Diagnostics;
using Camelid.Data.Instructions;
using Camelid.DataBenchmarks;

// Times the ROUGE-L deduplication of 52,000 instructions (Alpaca's data set size), the way a generation run does
// it: each candidate in turn is compared with the seed tasks and every instruction kept before it, and kept when
// no F-measure is above 0.7. Usage: dotnet run -c Release --project bench/Camelid.DataBenchmarks [-- COUNT [SEED_TASKS.jsonl]]
int count = args.Length > 0 ? int.Parse(args[0]) : 52_000;
string? seedPath = args.Length > 1 ? args[1] : FindSeedTasks();
var seeds = seedPath != null ? SeedTasks.Load(seedPath).Select(t => t.Instruction).ToList() : [];
var candidates = SyntheticInstructions.Make(count, seed: 1);
double meanWords = candidates.Average(c => c.Split(' ').Length);
Console.WriteLine($"{count:N0} synthetic instructions (mean {meanWords:F1} words), {seeds.Count} seed tasks{(seedPath != null ? $" from {seedPath}" : "")}, " +
                  $"{Environment.ProcessorCount} cores, .NET {Environment.Version}");

// Warm up the JIT (tiered compilation) on a small run first.
Dedupe(SyntheticInstructions.Make(3000, seed: 2), seeds, 0, out _, out _, out _);

foreach (int cores in new[] { 1, Environment.ProcessorCount }.Distinct())
{
    var time = Dedupe(candidates, seeds, cores, out int kept, out TimeSpan lastThousand, out var index);
    Console.WriteLine($"| {cores} core{(cores > 1 ? "s" : "")} | {count:N0} candidates | {kept:N0} kept, {count - kept:N0} dropped | " +
                      $"{time.TotalSeconds:F2} s | {time.TotalMilliseconds * 1000 / count:F0} µs per candidate on average, " +
                      $"{lastThousand.TotalMicroseconds:F0} µs each for the last 1,000 |");
    // The drop report's "most similar kept instruction" for a candidate a filter dropped: no threshold, every item looked at.
    var probes = SyntheticInstructions.Make(200, seed: 3);
    var clock = Stopwatch.StartNew();
    foreach (var p in probes)
        index.MostSimilar(p);
    Console.WriteLine($"  most similar overall (no threshold) against {index.Count:N0} items: {clock.Elapsed.TotalMicroseconds / probes.Count:F0} µs per query");
}

// The straightforward way (a full LCS table per pair, one core) on a sample, to show what the index saves.
var sample = candidates.Take(3000).ToList();
var naive = Stopwatch.StartNew();
var vocabulary = new TokenVocabulary();
var pool = seeds.Select(vocabulary.Tokenize).ToList();
long pairs = 0;
foreach (var c in sample)
{
    var tokens = vocabulary.Tokenize(c);
    bool similar = false;
    foreach (var p in pool)
    {
        pairs++;
        if (ReferenceFMeasure(tokens, p) > 0.7) { similar = true; break; }
    }
    if (!similar) pool.Add(tokens);
}
naive.Stop();
Console.WriteLine($"reference (LCS table, 1 core, stops at the first match): {pairs:N0} pairs in {naive.Elapsed.TotalSeconds:F2} s = " +
                  $"{naive.Elapsed.TotalNanoseconds / pairs:F0} ns per pair; the full 52,000 would need about " +
                  $"{EstimateNaiveSeconds(naive.Elapsed.TotalNanoseconds / pairs, count, seeds.Count):F0} s");

static TimeSpan Dedupe(List<string> candidates, List<string> seeds, int cores, out int kept, out TimeSpan lastThousand, out SimilarityIndex index)
{
    index = new SimilarityIndex(cores);
    foreach (var s in seeds)
        index.Add(s);
    var clock = Stopwatch.StartNew();
    kept = 0;
    var before = TimeSpan.Zero;
    for (int i = 0; i < candidates.Count; i++)
    {
        if (i == candidates.Count - 1000)
            before = clock.Elapsed;
        var tokens = index.Tokenize(candidates[i]);
        if (index.MostSimilar(tokens, 0.7) == null)
        {
            index.Add(candidates[i], tokens);
            kept++;
        }
    }
    clock.Stop();
    lastThousand = (clock.Elapsed - before) / 1000;
    return clock.Elapsed;
}

static double ReferenceFMeasure(int[] a, int[] b)
{
    if (a.Length == 0 || b.Length == 0) return 0;
    var table = new int[a.Length + 1, b.Length + 1];
    for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
            table[i, j] = a[i - 1] == b[j - 1] ? table[i - 1, j - 1] + 1 : Math.Max(table[i - 1, j], table[i, j - 1]);
    return RougeL.FMeasure(table[a.Length, b.Length], a.Length, b.Length);
}

// Most candidates are kept and are compared with the whole pool: about count²/2 pairs.
static double EstimateNaiveSeconds(double nsPerPair, int count, int seeds) => nsPerPair * ((double)count * count / 2 + (double)count * seeds) / 1e9;

static string? FindSeedTasks()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "..", "shared", "data", "instruct", "seed_tasks.jsonl");
        if (File.Exists(Path.Combine(dir.FullName, "Camelid.slnx")))
            return File.Exists(candidate) ? Path.GetFullPath(candidate) : null;
    }
    return null;
}
