using System.Text.RegularExpressions;
using Camelid.Data.Formats;

namespace Camelid.Data.Instructions;

/// <summary>An instance that stage 4 dropped, with the reason.</summary>
public sealed record DroppedInstance(TaskInstance Instance, string Reason, string? Detail = null);

/// <summary>A task's instances after stage 4, and the ones it dropped.</summary>
public sealed record PreparedInstances(IReadOnlyList<TaskInstance> Kept, IReadOnlyList<DroppedInstance> Dropped, string? NoInstancesDetail);

/// <summary>
/// Self-Instruct's stages 3→4 for one task (prepare_for_finetuning.py): read the instances from the teacher's
/// answer (input-first "Example N … Output: …" for generation tasks, output-first "Class label: …" then the
/// input for classification tasks), drop the last one if the answer was cut at max_tokens, drop invalid ones
/// (input equal to output, empty output, input or output ending with ':'), drop all of them if two share a
/// non-empty input but differ in output, drop exact duplicates, and keep at most 5, chosen at random.
/// The kept instances stay in the order written.
/// </summary>
public static partial class InstancePreparation
{
    public const int DefaultMaxInstances = 5;

    [GeneratedRegex(@"Example\s?\d*\.?")]
    private static partial Regex Example();

    [GeneratedRegex(@"Output\s*\d*\s*:")]
    private static partial Regex OutputLabel();

    [GeneratedRegex(@"Input\s*\d*\s*:")]
    private static partial Regex InputLabel();

    [GeneratedRegex(@"^Input\s*\d*\s*:")]
    private static partial Regex LeadingInputLabel();

    public static PreparedInstances Prepare(string answer, bool isClassification, bool truncated, DeterministicRandom random,
                                            int maxInstances = DefaultMaxInstances)
    {
        answer = answer.Replace("\r\n", "\n");
        var dropped = new List<DroppedInstance>();
        var instances = isClassification ? ParseClassification(answer) : ParseGeneration(answer);
        if (instances.Count == 0)
            return new PreparedInstances([], dropped, isClassification
                ? "the answer has no \"Class label:\""
                : "the answer has neither \"Example\" nor \"Output:\"");

        if (truncated)
        {
            dropped.Add(new DroppedInstance(instances[^1], DropReason.Truncated, "the answer was cut at max_tokens"));
            instances.RemoveAt(instances.Count - 1);
        }

        var valid = new List<TaskInstance>();
        foreach (var instance in instances)
        {
            string? reason = instance.Input == instance.Output ? DropReason.InputEqualsOutput
                : instance.Output.Length == 0 ? DropReason.EmptyOutput
                : instance.Input.TrimEnd().EndsWith(':') || instance.Output.TrimEnd().EndsWith(':') ? DropReason.EndsWithColon
                : null;
            if (reason != null)
                dropped.Add(new DroppedInstance(instance, reason));
            else
                valid.Add(instance);
        }

        var conflict = FindConflict(valid);
        if (conflict != null)
        {
            dropped.AddRange(valid.Select(i => new DroppedInstance(i, DropReason.ConflictingOutputs, $"input \"{Short(conflict)}\" has different outputs")));
            valid.Clear();
        }

        var unique = new List<TaskInstance>();
        foreach (var instance in valid)
            if (unique.Contains(instance))
                dropped.Add(new DroppedInstance(instance, DropReason.DuplicateInstance));
            else
                unique.Add(instance);

        var kept = unique;
        if (unique.Count > maxInstances)
        {
            var chosen = random.Sample(Enumerable.Range(0, unique.Count).ToList(), maxInstances).ToHashSet();
            kept = [.. unique.Where((_, i) => chosen.Contains(i))];
            dropped.AddRange(unique.Where((_, i) => !chosen.Contains(i))
                                   .Select(i => new DroppedInstance(i, DropReason.OverInstanceLimit, $"at most {maxInstances} instances per task")));
        }
        return new PreparedInstances(kept, dropped, kept.Count == 0 ? "every instance was dropped" : null);
    }

    /// <summary>The first non-empty input that appears with two different outputs, or null.</summary>
    static string? FindConflict(List<TaskInstance> instances)
    {
        for (int i = 1; i < instances.Count; i++)
            for (int j = 0; j < i; j++)
                if (instances[i].Input.Length > 0 && instances[i].Input == instances[j].Input && instances[i].Output != instances[j].Output)
                    return instances[i].Input;
        return null;
    }

    static List<TaskInstance> ParseGeneration(string answer)
    {
        answer = answer.Trim();
        var instances = new List<TaskInstance>();
        if (Example().IsMatch(answer))
        {
            foreach (var piece in Example().Split(answer))
                if (piece.Trim().Length > 0)
                    instances.Add(ParseInputOutput(piece.Trim()));
        }
        else if (OutputLabel().IsMatch(answer))
            instances.Add(ParseInputOutput(answer));
        return instances;
    }

    /// <summary>Self-Instruct's parse_input_output: the input is before "Output:", the output after it and before any next "Input:".</summary>
    static TaskInstance ParseInputOutput(string text)
    {
        string input, output;
        var parts = OutputLabel().Split(text);
        if (parts.Length > 1)
        {
            input = parts[0].Trim();
            output = parts[1].Trim();
        }
        else
        {
            input = "";
            output = text.Trim();
        }
        if (InputLabel().IsMatch(output))
            output = InputLabel().Split(output)[0].Trim();
        input = LeadingInputLabel().Replace(input, "").Trim();
        return new TaskInstance(input, output);
    }

    static List<TaskInstance> ParseClassification(string answer)
    {
        var instances = new List<TaskInstance>();
        const string Label = "Class label:";
        if (!answer.Contains(Label, StringComparison.Ordinal))
            return instances;
        foreach (var piece in answer.Split(Label).Skip(1))
        {
            var fields = piece.Trim().Split('\n', 2);
            string label = fields[0].Trim();
            string input = fields.Length == 2 ? fields[1].Trim() : "";
            instances.Add(new TaskInstance(input, label));
        }
        return instances;
    }

    static string Short(string text) => text.Length <= 60 ? text : text[..60] + "…";

    /// <summary>The task's instances as Alpaca records.</summary>
    public static IEnumerable<AlpacaRecord> ToRecords(string instruction, IEnumerable<TaskInstance> instances) =>
        instances.Select(i => new AlpacaRecord(instruction.Trim(), i.Input, i.Output));
}
