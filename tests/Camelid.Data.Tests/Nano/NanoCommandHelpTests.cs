using System.Text.RegularExpressions;
using Camelid.Data.Nano;
using Camelid.Tests;

namespace Camelid.Data.Tests.Nano;

/// <summary>Every command line Camelid-Nano is taught is checked against README.md, the user-facing reference.</summary>
public partial class NanoCommandHelpTests
{
    static readonly string Readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));

    /// <summary>Placeholders stand for the user's own files and values (the README's own MODEL, FILE, DIR …).</summary>
    [GeneratedRegex(@"^[A-Z][A-Z0-9]*(\.gguf)?$")] private static partial Regex Placeholder();

    public static TheoryData<string> Commands() => [.. NanoCommandHelp.Topics.Select(t => t.Command)];

    [Theory]
    [MemberData(nameof(Commands))]
    public void Command_UsesOnlyWhatReadmeDocuments(string command)
    {
        var words = command.Split(' ');
        // The command itself ("camelid data convert"): every word before the first option or placeholder.
        string name = string.Join(' ', words.TakeWhile(w => !w.StartsWith('-') && !Placeholder().IsMatch(w)));
        Assert.True(Readme.Contains(name + " ", StringComparison.Ordinal), $"README.md never shows \"{name}\"");
        for (int i = 0; i < words.Length; i++)
        {
            if (!words[i].StartsWith("--", StringComparison.Ordinal))
                continue;
            string option = words[i];
            var uses = Regex.Matches(Readme, $@"(?<![\w-]){Regex.Escape(option)}(?![\w-])").Select(m => m.Index).ToList();
            Assert.True(uses.Count > 0, $"README.md never mentions {option}");
            // A literal value after the option (not a placeholder) must be one README gives for it, close by.
            if (i + 1 < words.Length && !words[i + 1].StartsWith('-') && !Placeholder().IsMatch(words[i + 1]))
            {
                string value = words[i + 1];
                Assert.True(uses.Any(at => Regex.IsMatch(Readme.Substring(at, Math.Min(400, Readme.Length - at)), $@"(?<![\w.-]){Regex.Escape(value)}(?![\w-])")),
                    $"README.md never gives {value} as a value of {option}");
            }
        }
    }

    [Fact]
    public void CommandsWithoutPlaceholders_AppearVerbatim()
    {
        foreach (var topic in NanoCommandHelp.Topics.Where(t => !t.Command.Split(' ').Any(w => Placeholder().IsMatch(w))))
            Assert.Contains(topic.Command, Readme);
    }

    [Fact]
    public void BriefsExamples_GetTheExpectedCommands()
    {
        string CommandFor(string question) => NanoCommandHelp.Topics.Single(t => t.Questions.Contains(question)).Command;
        Assert.Equal("camelid finetune --model MODEL --data FILE --out DIR --method lora", CommandFor("How do I fine-tune with LoRA?"));
        Assert.Equal("camelid serve --model MODEL --port 8080", CommandFor("How do I serve a model?"));
        Assert.Equal("camelid quantize IN.gguf OUT.gguf --type q4_k_m", CommandFor("How do I quantize a model to 4 bits?"));
    }

    [Fact]
    public void FollowUps_PointAtRealTopics_AndQuestionsAreUnambiguous()
    {
        var ids = NanoCommandHelp.Topics.Select(t => t.Id).ToHashSet();
        Assert.Equal(NanoCommandHelp.Topics.Count, ids.Count);
        Assert.All(NanoCommandHelp.FollowUps, f => Assert.True(ids.Contains(f.After) && ids.Contains(f.Then), $"{f.After} → {f.Then}"));
        var questions = NanoCommandHelp.Topics.SelectMany(t => t.Questions).ToList();
        Assert.Equal(questions.Count, questions.Distinct().Count());
    }
}
