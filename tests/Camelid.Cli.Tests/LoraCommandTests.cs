using System.Diagnostics;
using System.Text.Json;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>
/// The LoRA workflow as a user runs it: `finetune --method lora|qlora` writes a PEFT adapter (and resumes after a kill
/// to the same adapter), `generate --lora` uses it unmerged, `merge-lora` bakes it in with the same greedy output.
/// </summary>
public sealed class LoraCommandTests
{
    const string Model = "models/stories260K.gguf";

    static string WriteMessages(string dir)
    {
        var random = new Random(3);
        string[] words = "cat dog sun tree ball girl boy bird fish cake".Split(' ');
        string path = Path.Combine(dir, "chat.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 96).Select(_ =>
        {
            string text = string.Join(' ', Enumerable.Range(0, 3).Select(_ => words[random.Next(words.Length)]));
            return JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "Repeat: " + text }, new { role = "assistant", content = text } } });
        }));
        return path;
    }

    static string[] Finetune(string data, string run, params string[] more) =>
    [
        "finetune", "-m", TestPaths.Shared(Model), "-d", data, "--template", "llama-2", "--out", run, "--batch-size", "8", "--micro-batch", "4",
        "--epochs", "1", "--threads", "2", "--max-len", "48", .. more.Contains("--lora-targets") ? [] : new[] { "--lora-targets", "q,k,v,o,head" }, .. more,
    ];

    [SharedDataFact(Model)]
    public void Lora_run_writes_a_peft_adapter_that_generate_uses_unmerged_and_merge_lora_bakes_in()
    {
        string dir = TestPaths.NewTempDir();
        string data = WriteMessages(dir), run = Path.Combine(dir, "run");
        var trained = CliRunner.Run(Finetune(data, run, "--method", "lora", "--lr", "1e-2"), timeoutSeconds: 300);
        Assert.True(trained.ExitCode == 0, trained.StandardError);
        Assert.Contains("trainable parameters", trained.StandardError);
        string adapter = Path.Combine(run, "adapter");
        Assert.True(File.Exists(Path.Combine(adapter, LoraAdapter.ConfigFile)) && File.Exists(Path.Combine(adapter, LoraAdapter.WeightsFile)), trained.StandardError);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(adapter, LoraAdapter.ConfigFile))))
        {
            Assert.Equal("LORA", config.RootElement.GetProperty("peft_type").GetString());
            Assert.Equal(8, config.RootElement.GetProperty("r").GetInt32());
            Assert.Equal(["k_proj", "lm_head", "o_proj", "q_proj", "v_proj"], config.RootElement.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()!).Order());
        }
        // The checkpoint holds the adapters only, never the frozen base.
        string checkpoint = Directory.GetDirectories(Path.Combine(run, "checkpoints")).Single();
        Assert.True(new FileInfo(Path.Combine(checkpoint, "model.safetensors")).Length < new FileInfo(TestPaths.Shared(Model)).Length / 4);

        string prompt = "[INST] Repeat: dog sun cake [/INST]";
        string[] Generate(params string[] model) => ["generate", .. model, "-p", prompt, "-n", "12", "--temp", "0"];
        var plain = CliRunner.Run(Generate("-m", TestPaths.Shared(Model)));
        var adapted = CliRunner.Run(Generate("-m", TestPaths.Shared(Model), "--lora", adapter));
        Assert.True(adapted.ExitCode == 0, adapted.StandardError);
        Assert.NotEqual(plain.StandardOutput, adapted.StandardOutput);
        var off = CliRunner.Run(Generate("-m", TestPaths.Shared(Model), "--lora", adapter + ":0"));
        Assert.Equal(plain.StandardOutput, off.StandardOutput);

        string merged = Path.Combine(dir, "merged.gguf");
        var merge = CliRunner.Run("merge-lora", "--model", TestPaths.Shared(Model), "--lora", adapter, "--out", merged);
        Assert.True(merge.ExitCode == 0, merge.StandardError);
        var fromMerged = CliRunner.Run(Generate("-m", merged));
        Assert.Equal(adapted.StandardOutput, fromMerged.StandardOutput);
        // The head adapter on a tied model gives the merged file its own output.weight; the embedding is unchanged.
        using var mergedModel = LlamaModel.Load(merged);
        using var baseModel = LlamaModel.Load(TestPaths.Shared(Model));
        Assert.NotNull(mergedModel.Tensors.SingleOrDefault(t => t.Name == "output.weight"));
        Assert.True(mergedModel.Weights.TokenEmbedding.Bytes.SequenceEqual(baseModel.Weights.TokenEmbedding.Bytes));
    }

    [SharedDataFact(Model)]
    public void Qlora_run_killed_and_resumed_writes_the_same_adapter_as_an_uninterrupted_run()
    {
        string dir = TestPaths.NewTempDir();
        string data = WriteMessages(dir);
        string straight = Path.Combine(dir, "straight"), killed = Path.Combine(dir, "killed");
        string[] Args(string run, params string[] more) => Finetune(data, run, ["--method", "qlora", "--save-every", "3", "--lora-dropout", "0.1", .. more]);
        var whole = CliRunner.Run(Args(straight), timeoutSeconds: 300);
        Assert.True(whole.ExitCode == 0, whole.StandardError);
        Assert.Contains("frozen base", whole.StandardError);
        Assert.Contains("nf4", whole.StandardError);

        using (var process = CliRunner.Start(Args(killed)))
        {
            var clock = Stopwatch.StartNew();
            while (!Directory.Exists(Path.Combine(killed, "checkpoints", "step-0000006")) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(5);
            Assert.False(process.HasExited, "the run finished before it could be killed");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        var resumed = CliRunner.Run(Args(killed, "--resume"), timeoutSeconds: 300);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Contains("resuming at step", resumed.StandardError);
        // Dropout masks are a function of (seed, step, micro-batch), so the resumed run draws the same ones.
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "adapter", LoraAdapter.WeightsFile)),
                     File.ReadAllBytes(Path.Combine(killed, "adapter", LoraAdapter.WeightsFile)));

        // Resuming with other LoRA settings is refused: the checkpoint's adapters are a different shape of run.
        var other = CliRunner.Run(Args(killed, "--resume", "--lora-r", "4"));
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("different settings", other.StandardError);
    }

    [SharedDataFact(Model)]
    public void Bad_lora_arguments_are_refused_with_a_clear_message()
    {
        string dir = TestPaths.NewTempDir();
        string data = WriteMessages(dir);
        void Refused(string expected, params string[] args)
        {
            var result = CliRunner.Run(args);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: exit {result.ExitCode}\n{result.StandardError}");
            Assert.Contains(expected, result.StandardError);
        }
        Refused("--method", Finetune(data, Path.Combine(dir, "a"), "--method", "prefix"));
        Refused("unknown LoRA target", Finetune(data, Path.Combine(dir, "b"), "--method", "lora", "--lora-targets", "q,embedding"));
        Refused("--lora-r", Finetune(data, Path.Combine(dir, "c"), "--method", "lora", "--lora-r", "0"));
        Refused("--lora-dropout", Finetune(data, Path.Combine(dir, "d"), "--method", "lora", "--lora-dropout", "1"));
        Refused("nf4, q4_0 or q8_0", Finetune(data, Path.Combine(dir, "e"), "--method", "qlora", "--qlora-type", "q2"));
        Refused("no such adapter folder", "generate", "-m", TestPaths.Shared(Model), "--lora", Path.Combine(dir, "none"), "-p", "x", "-n", "1");
        Refused("no such adapter folder", "merge-lora", "--model", TestPaths.Shared(Model), "--lora", Path.Combine(dir, "none"), "--out", Path.Combine(dir, "m.gguf"));
        Assert.False(File.Exists(Path.Combine(dir, "m.gguf")));
    }
}
