using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid convert` and `camelid delta` run as a user runs them; the conversions themselves are tested in
/// Camelid.Model.Tests/Conversion (ModelConverterTests, ModelDeltaTests).</summary>
public sealed class WeightToolsTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("weight-tools");

    string PathFor(string name) => Path.Combine(_dir, name);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Synth(string name, int seed, string type = "f16")
    {
        string path = PathFor(name);
        Assert.Equal(0, CliRunner.Run("synth", "--shape", "stories260k", "--type", type, "--out", path, "--seed", seed.ToString()).ExitCode);
        return path;
    }

    static void AssertCleanError(CliResult r, string mentions)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('[')).ToList();
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(mentions, lines[0]);
        Assert.Equal("", r.StandardOutput);
    }

    static string Greedy(string model) =>
        CliRunner.Run("generate", "-m", model, "-p", "Once upon a time", "-n", "12", "--temp", "0").StandardOutput;

    [Fact]
    public void Convert_gguf_to_hf_to_llama2c_to_gguf_keeps_the_greedy_text()
    {
        string gguf = Synth("model.gguf", 1), hf = PathFor("model-hf"), bin = PathFor("model.bin"), back = PathFor("back.gguf");
        var toHf = CliRunner.Run("convert", gguf, "--to", "hf", "--out", hf);
        Assert.Equal(0, toHf.ExitCode);
        Assert.StartsWith($"wrote {hf}: ", toHf.StandardOutput);
        Assert.True(File.Exists(Path.Combine(hf, "tokenizer.model")));
        var toBin = CliRunner.Run("convert", hf, "--to", "llama2c", "--out", bin);
        Assert.Equal(0, toBin.ExitCode);
        Assert.Contains("tok512.bin", toBin.StandardError);
        Assert.Equal(0, CliRunner.Run("convert", bin, "--to", "gguf", "--type", "f16", "--out", back).ExitCode);

        string expected = Greedy(gguf);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Greedy(hf));
        Assert.Equal(expected, Greedy(bin));
        Assert.Equal(expected, Greedy(back));
    }

    [Fact]
    public void Delta_make_then_apply_rebuilds_the_target_and_a_wrong_base_fails_cleanly()
    {
        string baseModel = Synth("base.gguf", 1), target = Synth("target.gguf", 2), other = Synth("other.gguf", 3);
        string delta = PathFor("delta"), rebuilt = PathFor("rebuilt.gguf"), wrong = PathFor("wrong.gguf");
        var make = CliRunner.Run("delta", "make", "--base", baseModel, "--target", target, "--out", delta);
        Assert.Equal(0, make.ExitCode);
        Assert.Contains("base sha256 ", make.StandardOutput);
        Assert.True(File.Exists(Path.Combine(delta, "delta.json")));

        Assert.Equal(0, CliRunner.Run("delta", "apply", "--base", baseModel, "--delta", delta, "--out", rebuilt).ExitCode);
        Assert.Equal(File.ReadAllBytes(target), File.ReadAllBytes(rebuilt));

        var r = CliRunner.Run("delta", "apply", "--base", other, "--delta", delta, "--out", wrong);
        AssertCleanError(r, "wrong base");
        Assert.Contains(make.StandardOutput.Split("base sha256 ")[1][..64], r.StandardError);
        Assert.False(File.Exists(wrong));
        Assert.Empty(Directory.GetFiles(_dir, "*.partial"));
    }

    [Fact]
    public void Bad_inputs_give_one_error_line_and_exit_code_1()
    {
        string gguf = Synth("q8.gguf", 1, "q8_0");
        AssertCleanError(CliRunner.Run("convert", PathFor("missing.gguf"), "--to", "hf", "--out", PathFor("x")), "no such file");
        AssertCleanError(CliRunner.Run("convert", gguf, "--to", "onnx", "--out", PathFor("x")), "unknown format");
        AssertCleanError(CliRunner.Run("convert", gguf, "--to", "hf", "--type", "q4_0", "--out", PathFor("x")), "F32, F16 or BF16");
        AssertCleanError(CliRunner.Run("delta", "make", "--base", gguf, "--target", gguf, "--out", PathFor("d")), "same model");
        AssertCleanError(CliRunner.Run("delta", "apply", "--base", gguf, "--delta", _dir, "--out", PathFor("t.gguf")), "not a delta folder");
        Assert.False(Directory.Exists(PathFor("x")));
    }
}
