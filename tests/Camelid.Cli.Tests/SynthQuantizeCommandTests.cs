using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid synth` and `camelid quantize` run as a user runs them; the conversions themselves are tested
/// in Camelid.Model.Tests/Conversion.</summary>
public sealed class SynthQuantizeCommandTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("synth-quantize");

    string PathFor(string name) => Path.Combine(_dir, name);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static void AssertCleanError(CliResult r, string mentions)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(mentions, lines[0]);
        Assert.Equal("", r.StandardOutput);
    }

    [Fact]
    public void Synth_then_quantize_gives_models_that_info_and_generate_can_use()
    {
        string f16 = PathFor("s260k-f16.gguf"), q8 = PathFor("s260k-q8_0.gguf");
        var synth = CliRunner.Run("synth", "--shape", "stories260k", "--type", "f16", "--out", f16, "--seed", "3");
        Assert.Equal(0, synth.ExitCode);
        Assert.StartsWith($"wrote {f16}: ", synth.StandardOutput);
        Assert.Contains("f16 (F16 x 36, F32 x 11)", synth.StandardOutput);
        Assert.Contains("100%", synth.StandardError); // progress, one line per tenth when redirected
        Assert.True(File.Exists(f16));

        var quantize = CliRunner.Run("quantize", f16, q8, "--type", "Q8_0");
        Assert.Equal(0, quantize.ExitCode);
        Assert.Contains("q8_0 (", quantize.StandardOutput);
        Assert.Contains("F16 x 5", quantize.StandardOutput); // ffn_down rows of 172 fit no 32-block
        Assert.Contains("fallback", quantize.StandardError);

        var info = CliRunner.Run("info", q8);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("name:           synthetic-stories260k", info.StandardOutput);
        Assert.Contains("vocabulary:     512", info.StandardOutput);
        var generate = CliRunner.Run("generate", "-m", q8, "-p", "Once upon a time", "-n", "8", "--temp", "0");
        Assert.Equal(0, generate.ExitCode);
    }

    [Fact]
    public void Synth_takes_a_json_shape_file()
    {
        string shape = PathFor("shape.json"), model = PathFor("custom.gguf");
        File.WriteAllText(shape, """{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 300}""");
        var r = CliRunner.Run("synth", "--shape", shape, "--type", "q4_0", "--out", model);
        Assert.Equal(0, r.ExitCode);
        var info = CliRunner.Run("info", model);
        Assert.Contains("feed-forward:   128", info.StandardOutput);
        Assert.Contains("vocabulary:     300", info.StandardOutput);
    }

    [Fact]
    public void Synth_errors_are_one_line()
    {
        string model = PathFor("never.gguf");
        AssertCleanError(CliRunner.Run("synth", "--shape", "llama-13b", "--type", "q4_0", "--out", model), "unknown shape 'llama-13b'");
        AssertCleanError(CliRunner.Run("synth", "--shape", "stories260k", "--type", "q3_k", "--out", model), "unknown type 'q3_k'");
        string shape = PathFor("bad.json");
        File.WriteAllText(shape, """{"hidden_size": 64}""");
        AssertCleanError(CliRunner.Run("synth", "--shape", shape, "--type", "f32", "--out", model), "'intermediate_size' is missing");
        AssertCleanError(CliRunner.Run("synth", "--shape", "stories260k", "--type", "f32", "--out", PathFor("no/such/dir/m.gguf")), "no/such/dir");
        Assert.False(File.Exists(model));
        Assert.NotEqual(0, CliRunner.Run("synth", "--shape", "stories260k", "--type", "f32").ExitCode); // --out is required
    }

    [Fact]
    public void Quantize_errors_are_one_line_and_the_input_is_untouched()
    {
        AssertCleanError(CliRunner.Run("quantize", PathFor("missing.gguf"), PathFor("out.gguf"), "--type", "q4_0"), "no such file");
        string model = PathFor("in.gguf");
        Assert.Equal(0, CliRunner.Run("synth", "--shape", "stories260k", "--type", "f32", "--out", model).ExitCode);
        var before = File.ReadAllBytes(model);
        AssertCleanError(CliRunner.Run("quantize", model, model, "--type", "q4_0"), "is the input file");
        AssertCleanError(CliRunner.Run("quantize", model, PathFor("out.gguf"), "--type", "q2_k"), "unknown type 'q2_k'");
        Assert.Equal(before, File.ReadAllBytes(model));
        Assert.False(File.Exists(PathFor("out.gguf")));
    }
}
