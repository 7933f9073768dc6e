using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid chat` with piped stdin: one user turn per line, plain answers, scriptable.</summary>
public class ChatCommandTests
{
    const string Gguf = "models/stories260K.gguf";
    const string VicunaSystem = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

    static CliResult Chat(string stdin) =>
        CliRunner.Run(["chat", "--model", TestPaths.Shared(Gguf), "--template", "vicuna", "--temp", "0", "-n", "30"], stdin);

    /// <summary>The greedy answer a chat turn must give: the same model continuing the vicuna-rendered prompt.</summary>
    static string GreedyContinuation(string prompt)
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(Gguf), "--temp", "0", "-n", "30", "--prompt", prompt);
        Assert.True(r.ExitCode == 0, r.StandardError);
        return r.StandardOutput.TrimStart();
    }

    [SharedDataFact(Gguf)]
    public void OneTurn_AnswersLikeGenerateOnTheRenderedPrompt()
    {
        var r = Chat("Hello\n");
        Assert.True(r.ExitCode == 0, r.StandardError);
        string expected = GreedyContinuation($"{VicunaSystem} USER: Hello ASSISTANT:");
        Assert.NotEqual("", expected);
        Assert.Equal(expected + "\n", r.StandardOutput);
    }

    [SharedDataFact(Gguf)]
    public void TrailingBackslash_ContinuesTheTurnOnTheNextLine()
    {
        var r = Chat("Hello\\\nthere\n");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Equal(GreedyContinuation($"{VicunaSystem} USER: Hello\nthere ASSISTANT:") + "\n", r.StandardOutput);
    }

    [SharedDataFact(Gguf)]
    public void Reset_StartsOver_AndExit_StopsReading()
    {
        var once = Chat("Hello\n");
        var twice = Chat("Hello\n/reset\nHello\n/exit\nnever answered\n");
        Assert.True(twice.ExitCode == 0, twice.StandardError);
        Assert.Equal(once.StandardOutput + once.StandardOutput, twice.StandardOutput);
        Assert.Contains("reset", twice.StandardError);
    }

    [SharedDataFact(Gguf)]
    public void SecondTurn_SeesTheFirstTurnInItsContext()
    {
        var first = Chat("Hello\n");
        var both = Chat("Hello\nTell me a story\n");
        Assert.True(both.ExitCode == 0, both.StandardError);
        Assert.StartsWith(first.StandardOutput, both.StandardOutput);
        // The second answer is conditioned on the first exchange, so it differs from the same question asked first.
        string alone = Chat("Tell me a story\n").StandardOutput;
        string second = both.StandardOutput[first.StandardOutput.Length..];
        Assert.NotEqual("", second.Trim());
        Assert.NotEqual(alone, second);
    }

    [SharedDataFact(Gguf)]
    public void AutoTemplate_SaysWhichItChoseAndWarnsOnFallback()
    {
        var r = CliRunner.Run(["chat", "--model", TestPaths.Shared(Gguf), "-n", "5"], "Hi\n");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("warning:", r.StandardError);
        Assert.Contains("vicuna", r.StandardError);
    }

    [SharedDataFact(Gguf)]
    public void UnknownTemplate_IsAClearError()
    {
        var r = CliRunner.Run(["chat", "--model", TestPaths.Shared(Gguf), "--template", "nosuch"], "Hi\n");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nosuch", r.StandardError);
        Assert.DoesNotContain("   at ", r.StandardError);
    }
}
