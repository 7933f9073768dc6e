using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;
using Camelid.Training.Data;
using Camelid.Training.Model;
using Camelid.Training.Optimization;

namespace Camelid.Training.Checkpoints;

/// <summary>Where a run stands after an optimizer step: everything besides tensors that a resumed run needs.</summary>
public sealed record TrainingState
{
    public required int Step { get; init; }
    public required int TotalSteps { get; init; }
    /// <summary>The data position of the next step's first micro-batch.</summary>
    public required int Epoch { get; init; }
    public required int EpochIndex { get; init; }
    public required long TokensSeen { get; init; }
    public required double ElapsedSeconds { get; init; }
    /// <summary>
    /// The options that shape the run (batch sizes, schedule, seed, data). A resumed run must match them, or its
    /// loss path would not be the one the interrupted run was on. All randomness is a pure function of the seed and
    /// the step/epoch (shuffles, splits), so there is no generator state to save besides these numbers.
    /// </summary>
    public required string Fingerprint { get; init; }

    [JsonIgnore] public DataPosition Position => new(Epoch, EpochIndex);
}

/// <summary>
/// Checkpoints of a run in <c>RUN/checkpoints/step-NNNNNNN/</c>: <c>model.safetensors</c> (the trainable f32 weights, GGUF names: all of them, or only LoRA adapters),
/// <c>optimizer.safetensors</c> (AdamW's two moments per parameter) and <c>state.json</c>. Each is written into a
/// <c>.partial</c> folder renamed into place only when complete, so a crash or SIGKILL at any moment leaves
/// the previous checkpoints intact and never a half-written one under a real name.
/// </summary>
public static class Checkpoint
{
    const string Prefix = "step-";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Folder(string runDirectory) => Path.Combine(runDirectory, "checkpoints");

    /// <summary>Saves the optimizer's parameters (the trainable ones: every weight, or only the LoRA adapters) and moments.</summary>
    public static string Save(string runDirectory, TrainingState state, AdamW optimizer, int keep)
    {
        string root = Folder(runDirectory);
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, Prefix + state.Step.ToString("D7", CultureInfo.InvariantCulture));
        string partial = final + ".partial";
        if (Directory.Exists(partial))
            Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(partial);

        SafetensorsWriter.Write(Path.Combine(partial, "model.safetensors"), optimizer.Parameters.Select(p => Tensor(p.Name, p, p.Value)));
        SafetensorsWriter.Write(Path.Combine(partial, "optimizer.safetensors"), optimizer.Parameters.SelectMany((p, i) => new[]
        {
            Tensor("m." + p.Name, p, optimizer.FirstMoments[i]),
            Tensor("v." + p.Name, p, optimizer.SecondMoments[i]),
        }), new Dictionary<string, string> { ["step"] = optimizer.Step.ToString(CultureInfo.InvariantCulture) });
        File.WriteAllText(Path.Combine(partial, "state.json"), JsonSerializer.Serialize(state, Json));
        FlushDirectory(partial);

        if (Directory.Exists(final))
            Directory.Delete(final, recursive: true);
        Directory.Move(partial, final);
        Prune(root, keep);
        return final;
    }

    /// <summary>The newest complete checkpoint of a run, or null when it has none.</summary>
    public static string? Latest(string runDirectory)
    {
        string root = Folder(runDirectory);
        if (!Directory.Exists(root))
            return null;
        return Complete(root).LastOrDefault();
    }

    /// <summary>A checkpoint's state.json: where the run stood and the settings it was made with.</summary>
    public static TrainingState ReadState(string checkpoint) =>
        JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(checkpoint, "state.json")), Json)
            ?? throw new InvalidDataException($"{checkpoint}/state.json is empty");

    /// <summary>Reads a checkpoint into the optimizer and its parameters (shapes must match) and returns its state.</summary>
    public static TrainingState Load(string checkpoint, AdamW optimizer)
    {
        var state = ReadState(checkpoint);
        using (var model = SafetensorsFile.Open(Path.Combine(checkpoint, "model.safetensors")))
            foreach (var p in optimizer.Parameters)
                Read(model, p.Name, p, p.Value, checkpoint);
        using (var moments = SafetensorsFile.Open(Path.Combine(checkpoint, "optimizer.safetensors")))
        {
            for (int i = 0; i < optimizer.Parameters.Count; i++)
            {
                var p = optimizer.Parameters[i];
                Read(moments, "m." + p.Name, p, optimizer.FirstMoments[i], checkpoint);
                Read(moments, "v." + p.Name, p, optimizer.SecondMoments[i], checkpoint);
            }
            optimizer.Step = int.Parse(moments.Metadata["step"], CultureInfo.InvariantCulture);
        }
        return state;
    }

    static SafetensorsWriter.StreamedTensor Tensor(string name, Parameter shape, float[] values) =>
        new(name, GgmlType.F32, shape.Rows == 1 ? [shape.Cols] : [shape.Rows, shape.Cols], 4L * values.Length,
            stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    static void Read(SafetensorsFile file, string name, Parameter shape, float[] into, string checkpoint)
    {
        var entry = file.Find(name) ?? throw new InvalidDataException($"{checkpoint}: tensor '{name}' is missing; was it written for another model?");
        if (entry.Type != GgmlType.F32 || entry.ElementCount != into.Length)
            throw new InvalidDataException($"{checkpoint}: tensor '{name}' is {entry}, expected F32 ({shape.Rows}, {shape.Cols})");
        MemoryMarshal.Cast<byte, float>(entry.Bytes).CopyTo(into);
    }

    static IEnumerable<string> Complete(string root) =>
        Directory.GetDirectories(root, Prefix + "*")
            .Where(d => !d.EndsWith(".partial", StringComparison.Ordinal) && File.Exists(Path.Combine(d, "state.json")))
            .Order(StringComparer.Ordinal);

    static void Prune(string root, int keep)
    {
        if (keep <= 0)
            return;
        var all = Complete(root).ToList();
        foreach (var old in all.Take(Math.Max(0, all.Count - keep)))
            Directory.Delete(old, recursive: true);
    }

    /// <summary>Makes the files' contents durable before the rename publishes them (a power cut must not leave an empty checkpoint).</summary>
    static void FlushDirectory(string folder)
    {
        foreach (var file in Directory.GetFiles(folder))
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
                stream.Flush(flushToDisk: true);
    }
}
