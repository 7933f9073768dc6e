using Camelid.Data.Instructions;
using Camelid.Tests;

namespace Camelid.Data.Tests.Instructions;

public class AlpacaPromptTests
{
    static SeedTask Task(string instruction, string input, string output) => new("t", instruction, [new TaskInstance(input, output)], false);

    [Fact]
    public void Encode_IsAlpacasLayout()
    {
        string prompt = AlpacaPrompt.Encode("REQUIREMENTS\nList of 20 tasks:",
        [
            Task("Give three tips for\n staying   healthy:", "", "1. Eat well."),
            Task("Translate to French.", "Good morning", "Bonjour"),
        ]);
        Assert.Equal(
            "REQUIREMENTS\nList of 20 tasks:\n" +
            "###\n1. Instruction: Give three tips for staying healthy\n1. Input:\n<noinput>\n1. Output:\n1. Eat well.\n" +
            "###\n2. Instruction: Translate to French.\n2. Input:\nGood morning\n2. Output:\nBonjour\n" +
            "###\n3. Instruction:", prompt);
    }

    [SharedDataFact("instruct/alpaca_prompt.txt", "instruct/seed_tasks.jsonl")]
    public void Encode_WithAlpacasPromptFile()
    {
        string template = File.ReadAllText(TestPaths.Shared("instruct/alpaca_prompt.txt"));
        var seeds = SeedTasks.Load(TestPaths.Shared("instruct/seed_tasks.jsonl"));
        Assert.Equal(175, seeds.Count);
        Assert.Equal(26, seeds.Count(s => s.IsClassification));
        string prompt = AlpacaPrompt.Encode(template, [seeds[0], seeds[1], seeds[2]]);
        Assert.StartsWith(template + "\n###\n1. Instruction: Is there anything I can eat for a breakfast", prompt);
        Assert.Contains("1. Input:\n<noinput>\n1. Output:\nYes, you can have 1 oatmeal banana protein shake", prompt);
        Assert.Contains("\n2. Input:\nNight : Day :: Right : Left\n", prompt);
        Assert.EndsWith("###\n4. Instruction:", prompt);
        Assert.EndsWith("List of 20 tasks:", AlpacaPrompt.DefaultTemplate);
    }
}
