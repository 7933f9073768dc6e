using Camelid.Tests;

namespace Camelid.Cli.Tests;

public class GenerateCommandTests
{
    const string Bin = "models/stories260K.bin";
    const string Gguf = "models/stories260K.gguf";
    const string Tok = "models/tok512.bin";
    const string Expected = "models/stories260K.expected_t0_n200.txt";

    [SharedDataFact(Bin, Tok, Expected)]
    public void Llama2cCheckpoint_Greedy200Tokens_MatchesLlama2cByteForByte()
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Bin), "--tokenizer", TestPaths.Shared(Tok), "--temp", "0", "-n", "200");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Equal(File.ReadAllText(TestPaths.Shared(Expected)), r.StandardOutput);
        Assert.Contains("tokens/s", r.StandardError);
    }

    [SharedDataFact(Gguf, Expected)]
    public void Gguf_Greedy200Tokens_MatchesLlama2cByteForByte()
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Gguf), "--temp", "0", "-n", "200", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Equal(File.ReadAllText(TestPaths.Shared(Expected)), r.StandardOutput);
    }

    /// <summary>Continuing a prefix of the reference text greedily must carry on the reference, space included.</summary>
    [SharedDataFact(Gguf, Expected)]
    public void PromptPlusContinuation_IsThePrefixOfTheReference()
    {
        string expected = File.ReadAllText(TestPaths.Shared(Expected));
        const string prompt = "Once upon a time, there was a little girl named";
        Assert.StartsWith(prompt, expected);
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Gguf), "--temp", "0", "-n", "20", "--prompt", prompt);
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.StartsWith(" ", r.StandardOutput);
        Assert.StartsWith(prompt + r.StandardOutput, expected);
    }

    [SharedDataFact(Gguf)]
    public void SameSeed_SameText_DifferentSeed_DifferentText()
    {
        string[] Args(string seed) => ["generate", "--model", TestPaths.Shared(Gguf), "--prompt", "Once upon a time", "-n", "60", "--temp", "1.0", "--seed", seed];
        var a = CliRunner.Run(Args("42"));
        var b = CliRunner.Run(Args("42"));
        var c = CliRunner.Run(Args("7"));
        Assert.True(a.ExitCode == 0, a.StandardError);
        Assert.Equal(a.StandardOutput, b.StandardOutput);
        Assert.NotEqual(a.StandardOutput, c.StandardOutput);
        Assert.DoesNotContain("Once upon a time", a.StandardOutput[..Math.Min(16, a.StandardOutput.Length)]);
    }

    [SharedDataFact(Gguf)]
    public void ZeroTokens_PrintsNothingAndSucceeds()
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Gguf), "-n", "0");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Equal("", r.StandardOutput);
    }

    [SharedDataFact(Gguf)]
    public void PromptLongerThanContext_IsAClearError()
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Gguf), "--ctx", "8", "--prompt", string.Join(' ', Enumerable.Repeat("once upon a time", 10)));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("context", r.StandardError);
        Assert.Single(r.StandardError.Trim().Split('\n'));
    }

    [SharedDataTheory(Gguf)]
    [InlineData("--temp", "-1")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--min-p", "-0.1")]
    [InlineData("--repeat-penalty", "0")]
    [InlineData("-n", "-5")]
    public void InvalidSamplingValues_AreRejected(string option, string value)
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Gguf), option, value);
        Assert.NotEqual(0, r.ExitCode);
        Assert.StartsWith("error:", r.StandardError.TrimStart());
        Assert.DoesNotContain("   at ", r.StandardError);
    }
}
