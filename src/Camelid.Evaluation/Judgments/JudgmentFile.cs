using Camelid.Evaluation.Files;

namespace Camelid.Evaluation.Judgments;

public enum JudgmentKind { Single, Pair }

/// <summary>
/// FastChat's judgment files: <c>model_judgment/{judge}_single.jsonl</c> and <c>model_judgment/{judge}_pair.jsonl</c>
/// (both pairwise modes share the pair file). The judge's model name becomes part of a file name, so characters
/// a file name cannot hold are replaced by '_'.
/// </summary>
public static class JudgmentFile
{
    public const string Folder = "model_judgment";

    public static string PathFor(string benchmarkDirectory, string judgeModel, JudgmentKind kind) =>
        Path.Combine(benchmarkDirectory, Folder, $"{SafeName(judgeModel)}_{(kind == JudgmentKind.Single ? "single" : "pair")}.jsonl");

    public static string SafeName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars().Concat(['/', '\\', ':']).ToHashSet();
        return new string(name.Select(c => invalid.Contains(c) ? '_' : c).ToArray());
    }

    public static JsonLinesContent<SingleJudgment> LoadSingle(string path) => JsonLines.Read(path, SingleJudgment.Parse, allowTornTail: true);

    public static JsonLinesContent<PairJudgment> LoadPair(string path) => JsonLines.Read(path, PairJudgment.Parse, allowTornTail: true);

    /// <summary>Single or pair, from the file name (…_single.jsonl / …_pair.jsonl), else from the first record's fields.</summary>
    public static JudgmentKind KindOf(string path)
    {
        string name = Path.GetFileName(path);
        if (name.EndsWith("_single.jsonl", StringComparison.Ordinal))
            return JudgmentKind.Single;
        if (name.EndsWith("_pair.jsonl", StringComparison.Ordinal))
            return JudgmentKind.Pair;
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            if (line.Contains("\"g1_winner\"", StringComparison.Ordinal))
                return JudgmentKind.Pair;
            if (line.Contains("\"score\"", StringComparison.Ordinal))
                return JudgmentKind.Single;
            break;
        }
        throw new EvaluationFormatException($"{path} is neither a single-grade nor a pairwise judgment file (no \"score\" or \"g1_winner\" in its first record)");
    }

    /// <summary>
    /// The judgment files named by <paramref name="fileOrDirectory"/>: the file itself, or the *.jsonl files of a
    /// benchmark folder's <c>model_judgment</c> subfolder (or of the folder itself).
    /// </summary>
    public static IReadOnlyList<string> Find(string fileOrDirectory)
    {
        if (File.Exists(fileOrDirectory))
            return [fileOrDirectory];
        if (!Directory.Exists(fileOrDirectory))
            throw new FileNotFoundException($"{fileOrDirectory} not found", fileOrDirectory);
        string folder = Directory.Exists(Path.Combine(fileOrDirectory, Folder)) ? Path.Combine(fileOrDirectory, Folder) : fileOrDirectory;
        var files = Directory.GetFiles(folder, "*.jsonl").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new FileNotFoundException($"no judgment files (*.jsonl) in {folder}: run `camelid eval judge` first");
        return files;
    }
}
