using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>Bad input: one clear line on stderr, a non-zero exit, no stack trace unless --verbose. Needs no shared data.</summary>
public class ErrorTests
{
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
    public void MissingModel_SaysSo()
    {
        AssertCleanError(CliRunner.Run("info", "/no/such/model.gguf"), "no such file");
    }

    [Theory]
    [InlineData("model.gguf", new byte[] { (byte)'G', (byte)'G', (byte)'U', (byte)'F', 3, 0, 0, 0, 1, 2 })]
    [InlineData("model.gguf", new byte[0])]
    [InlineData("model.bin", new byte[] { 1, 2, 3 })]
    [InlineData("model.xyz", new byte[] { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 })]
    public void GarbageFiles_GiveOneLineErrors(string name, byte[] bytes)
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        foreach (var args in new[] { new[] { "info", path }, ["generate", "--model", path, "-n", "1"], ["tokenize", "--model", path, "hi"] })
            AssertCleanError(CliRunner.Run(args), path);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void EmptyFolder_IsNotAModel()
    {
        string dir = TestPaths.NewTempDir();
        AssertCleanError(CliRunner.Run("info", dir), dir);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Verbose_AddsTheStackTrace()
    {
        var r = CliRunner.Run("info", "/no/such/model.gguf", "--verbose");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("   at ", r.StandardError);
    }

    [Fact]
    public void UnknownCommandOrMissingOption_IsAUsageError()
    {
        Assert.NotEqual(0, CliRunner.Run("frobnicate").ExitCode);
        // generate/chat/serve fall back to the shipped model; finetune has no default model.
        var r = CliRunner.Run("finetune");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--model", r.StandardError);
    }
}

/// <summary>Errors that need a real model from ../shared/data.</summary>
public class ModelErrorTests
{
    const string Bin = "models/stories260K.bin";
    const string BigTokenizer = "tokenizers/llama2c/tokenizer.bin";

    [SharedDataFact(Bin, BigTokenizer)]
    public void TokenizerVocabularyMismatch_SaysWhatToDo()
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Bin), "--tokenizer", TestPaths.Shared(BigTokenizer), "-n", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("512", r.StandardError);
        Assert.Contains("32000", r.StandardError);
    }

    [SharedDataFact(Bin)]
    public void Llama2cCheckpointWithoutTokenizer_AsksForOne()
    {
        string dir = TestPaths.NewTempDir();
        string bin = Path.Combine(dir, "stories260K.bin");
        File.Copy(TestPaths.Shared(Bin), bin);
        var r = CliRunner.Run("generate", "--model", bin, "-n", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--tokenizer", r.StandardError);
        Directory.Delete(dir, true);
    }

    [SharedDataFact(Bin)]
    public void TruncatedCheckpoint_IsReportedAsCorrupted()
    {
        string dir = TestPaths.NewTempDir();
        string bin = Path.Combine(dir, "stories260K.bin");
        var bytes = File.ReadAllBytes(TestPaths.Shared(Bin));
        File.WriteAllBytes(bin, bytes[..(bytes.Length / 2)]);
        var r = CliRunner.Run("info", bin, "--tokenizer", TestPaths.Shared("models/tok512.bin"));
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.StandardError);
        Assert.DoesNotContain("   at ", r.StandardError);
        Directory.Delete(dir, true);
    }
}
