using System.Diagnostics;
using System.Text.Json;
using Camelid.Model;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid finetune` and `camelid pretrain` as a user runs them: whole runs, kills, Ctrl+C, resume, errors.</summary>
public sealed class TrainingCommandTests
{
    const string Model = "models/stories260K.gguf";

    static string WriteMessages(string dir, int count)
    {
        var random = new Random(3);
        string[] words = "cat dog sun tree ball girl boy bird fish cake".Split(' ');
        string path = Path.Combine(dir, "chat.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(_ =>
        {
            string text = string.Join(' ', Enumerable.Range(0, 3).Select(_ => words[random.Next(words.Length)]));
            return JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "Repeat: " + text }, new { role = "assistant", content = text } } });
        }));
        return path;
    }

    /// <summary>160 examples, 2 held out for validation: 158 sequences, 20 steps of 8 (2 micro-batches of 4) per epoch.</summary>
    static string[] Finetune(string data, string run, params string[] more)
    {
        string[] defaults = ["--batch-size", "8", "--micro-batch", "4", "--lr", "1e-3", "--epochs", "1", "--threads", "2", "--max-len", "48"];
        var args = new List<string> { "finetune", "-m", TestPaths.Shared(Model), "-d", data, "--template", "llama-2", "--out", run };
        for (int i = 0; i < defaults.Length; i += 2)
            if (!more.Contains(defaults[i]))
                args.AddRange([defaults[i], defaults[i + 1]]);
        return [.. args, .. more];
    }

    [SharedDataFact(Model)]
    public void Killed_with_sigkill_and_resumed_ends_bit_identical_to_an_uninterrupted_run()
    {
        string dir = TestPaths.NewTempDir();
        string data = WriteMessages(dir, 160);
        string straight = Path.Combine(dir, "straight"), killed = Path.Combine(dir, "killed");

        var whole = CliRunner.Run(Finetune(data, straight, "--save-every", "4"), timeoutSeconds: 300);
        Assert.True(whole.ExitCode == 0, whole.StandardError);

        using (var process = CliRunner.Start(Finetune(data, killed, "--save-every", "4")))
        {
            // Wait for the second checkpoint, then kill at once: mid-step or mid-write, with no chance to clean up.
            var clock = Stopwatch.StartNew();
            while (!Directory.Exists(Path.Combine(killed, "checkpoints", "step-0000008")) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(5);
            Assert.False(process.HasExited, "the run finished before it could be killed");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        var resumed = CliRunner.Run(Finetune(data, killed, "--save-every", "4", "--resume"), timeoutSeconds: 300);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Contains("resuming at step", resumed.StandardError);

        string Final(string run) => Directory.GetDirectories(Path.Combine(run, "checkpoints")).Order().Last();
        Assert.Equal(Path.GetFileName(Final(straight)), Path.GetFileName(Final(killed)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Final(straight), "model.safetensors")), File.ReadAllBytes(Path.Combine(Final(killed), "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Final(straight), "optimizer.safetensors")), File.ReadAllBytes(Path.Combine(Final(killed), "optimizer.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.gguf")), File.ReadAllBytes(Path.Combine(killed, "model.gguf")));
        Assert.Equal(Losses(straight), Losses(killed));
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(killed, "checkpoints")).Length); // --keep-checkpoints 2
        Directory.Delete(dir, recursive: true);
    }

    [SharedDataFact(Model)]
    public void Ctrl_c_saves_a_checkpoint_and_exits_130_then_resume_finishes()
    {
        string dir = TestPaths.NewTempDir();
        string data = WriteMessages(dir, 160), run = Path.Combine(dir, "run");
        using (var process = CliRunner.Start(Finetune(data, run)))
        {
            string metrics = Path.Combine(run, "metrics.jsonl");
            var clock = Stopwatch.StartNew();
            while ((!File.Exists(metrics) || File.ReadAllLines(metrics).Length < 2) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(5);
            Assert.False(process.HasExited, "the run finished before it could be interrupted");
            Process.Start("kill", ["-INT", process.Id.ToString()]).WaitForExit();
            Assert.True(process.WaitForExit(60_000), "camelid did not stop after SIGINT");
            Assert.Equal(130, process.ExitCode);
        }
        var checkpoint = Assert.Single(Directory.GetDirectories(Path.Combine(run, "checkpoints")));
        int savedStep = int.Parse(Path.GetFileName(checkpoint)["step-".Length..]);
        Assert.InRange(savedStep, 2, 19);
        Assert.Equal(savedStep, Losses(run).Count);

        var resumed = CliRunner.Run(Finetune(data, run, "--resume"), timeoutSeconds: 300);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Equal(20, Losses(run).Count);
        using var model = LlamaModel.Load(Path.Combine(run, "model.gguf"));
        Assert.Equal(512, model.Config.VocabSize);
        Directory.Delete(dir, recursive: true);
    }

    [SharedDataFact(Model)]
    public void Bad_input_fails_with_a_clear_message_and_exit_code_1()
    {
        string dir = TestPaths.NewTempDir();
        string data = WriteMessages(dir, 20);
        var missing = CliRunner.Run(Finetune(Path.Combine(dir, "nope.jsonl"), Path.Combine(dir, "a")));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.StandardError);

        var indivisible = CliRunner.Run(Finetune(data, Path.Combine(dir, "b"), "--batch-size", "6"));
        Assert.Equal(1, indivisible.ExitCode);
        Assert.Contains("multiple of --micro-batch", indivisible.StandardError);

        string run = Path.Combine(dir, "c");
        Assert.Equal(0, CliRunner.Run(Finetune(data, run, "--max-steps", "1"), timeoutSeconds: 300).ExitCode);
        var again = CliRunner.Run(Finetune(data, run, "--max-steps", "1"));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--resume", again.StandardError);

        var otherSettings = CliRunner.Run(Finetune(data, run, "--max-steps", "1", "--lr", "5e-4", "--resume"));
        Assert.Equal(1, otherSettings.ExitCode);
        Assert.Contains("different settings", otherSettings.StandardError);
        Directory.Delete(dir, recursive: true);
    }

    [SharedDataFact("models/tok512.model")]
    public void Pretrain_from_random_weights_lowers_the_loss_and_writes_a_model_the_engine_runs()
    {
        string dir = TestPaths.NewTempDir();
        string text = Path.Combine(dir, "stories.txt");
        var random = new Random(5);
        string[] names = ["Lily", "Tom", "Sue", "Max"], things = ["ball", "cat", "tree", "cake"];
        File.WriteAllText(text, string.Join("\n\n", Enumerable.Range(0, 300).Select(_ =>
            $"Once upon a time, {names[random.Next(4)]} had a {things[random.Next(4)]}. It was very happy. The end.")));
        string run = Path.Combine(dir, "run");
        var result = CliRunner.Run(["pretrain", "--config", "nano", "--tokenizer", TestPaths.Shared("models/tok512.model"), "--data", text,
            "--out", run, "--max-len", "64", "--batch-size", "8", "--micro-batch", "8", "--lr", "3e-3", "--epochs", "4", "--max-steps", "30", "--threads", "2"], timeoutSeconds: 300);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var losses = Losses(run);
        Assert.Equal(30, losses.Count);
        Assert.True(losses[^1] < losses[0] / 2, $"pretraining loss went from {losses[0]:F3} to {losses[^1]:F3}");

        using (var model = LlamaModel.Load(Path.Combine(run, "model.gguf")))
            Assert.Equal((64, 5, 8, 4, 512), (model.Config.Dim, model.Config.Layers, model.Config.Heads, model.Config.KvHeads, model.Config.VocabSize));
        var generated = CliRunner.Run("generate", "-m", Path.Combine(run, "model.gguf"), "-p", "Once upon a time", "-n", "8", "--temp", "0");
        Assert.True(generated.ExitCode == 0, generated.StandardError);
        Assert.NotEmpty(generated.StandardOutput.Trim());
        Directory.Delete(dir, recursive: true);
    }

    static List<double> Losses(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("kind").GetString() == "train")
            .Select(e => e.GetProperty("loss").GetDouble())
            .ToList();
}
