using System.Text.Json;
using Camelid.Model;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid recipe nano --quick` end to end, as CI runs it: every step, the model, its card, and that SFT helped.</summary>
public sealed class RecipeTests
{
    [Fact]
    public void The_quick_nano_recipe_makes_a_model_that_beats_its_pretrained_base_on_held_out_prompts()
    {
        string dir = Path.Combine(TestPaths.NewTempDir(), "nano");
        var run = CliRunner.Run(["recipe", "nano", "--quick", "--out", dir, "--threads", "2"], timeoutSeconds: 900);
        Assert.True(run.ExitCode == 0, run.StandardError);

        string model = Path.Combine(dir, "camelid-nano.gguf");
        Assert.True(File.Exists(model), run.StandardError);
        using (var loaded = LlamaModel.Load(model))
        {
            Assert.NotNull(loaded.ChatTemplateSource);
            Assert.Equal("Camelid-Nano", loaded.Name);
        }
        string card = File.ReadAllText(Path.Combine(dir, "README.md"));
        Assert.Contains("camelid recipe nano --out", card);
        Assert.Contains("## Held-out exact match", card);
        Assert.True(File.Exists(Path.Combine(dir, "loss-pretrain.png")) && File.Exists(Path.Combine(dir, "loss-sft.png")));

        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "evaluation.json")));
        double before = evaluation.RootElement.GetProperty("pretrained").GetProperty("overall").GetDouble();
        double after = evaluation.RootElement.GetProperty("fine_tuned").GetProperty("overall").GetDouble();
        Assert.True(after > before, $"fine-tuning did not help on held-out prompts: {before:P0} → {after:P0}\n{run.StandardError}");

        // Running it again finds every step done and only rewrites the model and card.
        var again = CliRunner.Run(["recipe", "nano", "--quick", "--out", dir, "--threads", "2"], timeoutSeconds: 300);
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Contains("trained before", again.StandardError);
    }
}
