using System.Text.Json;
using Camelid.Data.Nano;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid data nano` run as a process: the three files, their counts, byte-identical reruns, one-line errors.</summary>
public class NanoDataCommandTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    CliResult Run(string outDir, string seed) =>
        CliRunner.Run("data", "nano", "--out", Path.Combine(_dir, outDir), "--seed", seed, "--documents", "300", "--per-skill", "20", "--heldout-per-skill", "5");

    [Fact]
    public void WritesProseTrainingAndHeldOut_Deterministically()
    {
        var r = Run("a", "3");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StandardError}");
        Assert.Matches(@"prose\.txt\s+300 documents", r.StandardOutput);
        Assert.Matches(@"train\.jsonl\s+140 conversations \(20 per skill × 7 skills\)", r.StandardOutput);
        Assert.Matches(@"heldout\.jsonl\s+35 prompts \(5 per skill × 7 skills\)", r.StandardOutput);

        string a = Path.Combine(_dir, "a");
        Assert.Equal(300, File.ReadAllText(Path.Combine(a, "prose.txt")).TrimEnd('\n').Split("\n\n").Length);
        var train = File.ReadAllLines(Path.Combine(a, "train.jsonl"));
        Assert.Equal(140, train.Length);
        foreach (string line in train)
        {
            var messages = JsonDocument.Parse(line).RootElement.GetProperty("messages");
            Assert.Equal("assistant", messages[messages.GetArrayLength() - 1].GetProperty("role").GetString());
        }
        var heldOut = NanoDataFiles.ReadHeldOut(Path.Combine(a, "heldout.jsonl"));
        Assert.Equal(35, heldOut.Count);
        Assert.All(Enum.GetValues<NanoSkill>(), s => Assert.Equal(5, heldOut.Count(e => e.Skill == s)));
        Assert.Equal(NanoInstructions.Generate(3, 5, NanoSplit.HeldOut).Select(e => e.PromptText), heldOut.Select(e => e.PromptText));

        Assert.Equal(0, Run("b", "3").ExitCode);
        Assert.Equal(0, Run("c", "4").ExitCode);
        foreach (string file in new[] { "prose.txt", "train.jsonl", "heldout.jsonl" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(_dir, "b", file)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(_dir, "c", file)));
        }
    }

    [Fact]
    public void NegativeCount_IsAOneLineError()
    {
        var r = CliRunner.Run("data", "nano", "--out", _dir, "--per-skill", "-1");
        Assert.Equal(1, r.ExitCode);
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("error: --per-skill must be 0 or more, not -1", Assert.Single(lines));
    }

    [Fact]
    public void MoreHeldOutThanTheSkillsHave_IsAOneLineError()
    {
        var r = CliRunner.Run("data", "nano", "--out", _dir, "--documents", "0", "--per-skill", "0", "--heldout-per-skill", "5000");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.StandardError);
        Assert.Contains("ask for fewer", r.StandardError);
    }
}
