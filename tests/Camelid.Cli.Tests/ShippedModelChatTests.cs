using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>A fresh clone's first command: `camelid chat` with no --model talks with the shipped Camelid-Nano.</summary>
public sealed class ShippedModelChatTests
{
    [ShippedModelFact]
    public void Chat_without_a_model_answers_a_question_of_each_skill_from_piped_input_and_exits()
    {
        string[] questions =
        [
            "Hi!", "Who are you?", "What is 23 + 45?", "Reverse this list: cat, dog, sun", "How many metres are in 3 kilometres?",
            "What animal is a llama?", "How do I serve a model with Camelid?",
        ];
        var result = CliRunner.Run(["chat", "--temp", "0", "-n", "48"], standardInput: string.Join("\n", questions) + "\n", timeoutSeconds: 120);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var stdout = result.StandardOutput;
        var answers = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(questions.Length, answers.Length);
        Assert.All(answers, a => Assert.False(string.IsNullOrWhiteSpace(a)));
        Assert.Contains("Camelid-Nano", answers[1]);
    }
}
