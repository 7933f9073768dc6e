using System.Text.Json.Serialization;
using Camelid.Data.Formats;

namespace Camelid.Data.Instructions;

/// <summary>One input/output example of a task.</summary>
public sealed record TaskInstance(string Input, string Output);

/// <summary>
/// A human-written seed task, as in Self-Instruct's data/seed_tasks.jsonl:
/// <c>{"id": "seed_task_0", "name": "…", "instruction": "…", "instances": [{"input": "", "output": "…"}], "is_classification": false}</c>.
/// </summary>
public sealed record SeedTask(string Id, string Instruction, IReadOnlyList<TaskInstance> Instances, bool IsClassification);

/// <summary>Reads seed tasks: Self-Instruct's JSON lines, or Alpaca records (each one a task with one instance).</summary>
public static class SeedTasks
{
    public static IReadOnlyList<SeedTask> Load(string path)
    {
        var tasks = new List<SeedTask>();
        foreach (var raw in DataFile.Read<SeedTaskJson>(path))
        {
            int number = tasks.Count + 1;
            if (string.IsNullOrWhiteSpace(raw.Instruction))
                throw new DataFormatException($"{path}: seed task {number} has no \"instruction\"");
            var instances = raw.Instances?.Select(i => new TaskInstance(i.Input ?? "", i.Output ?? "")).ToList()
                            ?? (raw.Output != null ? [new TaskInstance(raw.Input ?? "", raw.Output)] : []);
            if (instances.Count == 0)
                throw new DataFormatException($"{path}: seed task {number} has no \"instances\" (nor an \"output\")");
            tasks.Add(new SeedTask(raw.Id ?? $"seed_task_{number - 1}", raw.Instruction, instances, raw.IsClassification ?? false));
        }
        if (tasks.Count == 0)
            throw new DataFormatException($"{path}: no seed tasks");
        return tasks;
    }

    sealed record SeedTaskJson(
        [property: JsonPropertyName("id")] string? Id,
        [property: JsonPropertyName("instruction")] string? Instruction,
        [property: JsonPropertyName("instances")] List<InstanceJson>? Instances,
        [property: JsonPropertyName("is_classification")] bool? IsClassification,
        [property: JsonPropertyName("input")] string? Input,
        [property: JsonPropertyName("output")] string? Output);

    sealed record InstanceJson(
        [property: JsonPropertyName("input")] string? Input,
        [property: JsonPropertyName("output")] string? Output);
}
