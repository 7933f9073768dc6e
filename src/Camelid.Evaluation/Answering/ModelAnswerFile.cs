using Camelid.Evaluation.Files;
using Camelid.Evaluation.Questions;

namespace Camelid.Evaluation.Answering;

/// <summary>
/// FastChat's answer files: <c>model_answer/{model_id}.jsonl</c>, one <see cref="ModelAnswer"/> per line. The
/// model's name is the file name without <c>.jsonl</c>, as FastChat's judge scripts take it. When a question
/// appears twice, the later line wins.
/// </summary>
public static class ModelAnswerFile
{
    public const string Folder = "model_answer";

    public static JsonLinesContent<ModelAnswer> Load(string path) => JsonLines.Read(path, ModelAnswer.Parse, allowTornTail: true);

    public static Dictionary<QuestionId, ModelAnswer> ByQuestion(IEnumerable<ModelAnswer> answers)
    {
        var byQuestion = new Dictionary<QuestionId, ModelAnswer>();
        foreach (var answer in answers)
            byQuestion[answer.QuestionId] = answer;
        return byQuestion;
    }

    /// <summary>The answer file of <paramref name="modelId"/> under a benchmark folder (<c>DIR/model_answer/ID.jsonl</c>).</summary>
    public static string PathFor(string benchmarkDirectory, string modelId) => Path.Combine(benchmarkDirectory, Folder, modelId + ".jsonl");

    /// <summary>
    /// Every model's answers: <paramref name="directory"/> is a benchmark folder with a <c>model_answer</c>
    /// subfolder, or the folder of answer files itself.
    /// </summary>
    public static IReadOnlyDictionary<string, Dictionary<QuestionId, ModelAnswer>> LoadAll(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"answer folder {directory} not found");
        string folder = Directory.Exists(Path.Combine(directory, Folder)) ? Path.Combine(directory, Folder) : directory;
        var files = Directory.GetFiles(folder, "*.jsonl").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new FileNotFoundException($"no answer files (*.jsonl) in {folder}: run `camelid eval answer … --out {directory}` first");
        return files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => ByQuestion(Load(f).Records), StringComparer.Ordinal);
    }

    /// <summary>Checks a model id can be a file name: FastChat names the answer file after it.</summary>
    public static void ValidateModelId(string modelId)
    {
        if (string.IsNullOrWhiteSpace(modelId) || modelId.IndexOfAny(['/', '\\', ':', '*', '?', '"', '<', '>', '|']) >= 0 || modelId is "." or "..")
            throw new ArgumentException($"model id '{modelId}' cannot be a file name (it names model_answer/ID.jsonl): give a plain one with --model-id");
    }
}
