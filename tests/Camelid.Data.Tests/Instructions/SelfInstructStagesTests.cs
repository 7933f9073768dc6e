using Camelid.Data.Instructions;

namespace Camelid.Data.Tests.Instructions;

public class SelfInstructStagesTests
{
    [Fact]
    public void BootstrapPrompt_IsSelfInstructsLayout()
    {
        Assert.Equal("Come up with a series of tasks:\n1. Sort the list\n2. Name a river\n3.",
                     SelfInstructPrompts.Bootstrap(["Sort the list:", "Name a \n river"]));
    }

    [Fact]
    public void Bootstrap_SplitsNumberedLines()
    {
        var parsed = SelfInstructParsers.Bootstrap(" find the largest number in the list.\n10. Write a haiku about  autumn.\n11 . x\n\n", truncated: false, chat: false);
        Assert.Equal(["Find the largest number in the list.", "Write a haiku about autumn.", "X"], parsed.Select(p => p.Instruction));
        Assert.All(parsed, p => Assert.Null(p.Problem));
    }

    [Fact]
    public void Bootstrap_ChatPreambleAndRestatedNumber()
    {
        Assert.Equal(["Name a bird.", "Name a fish."],
            SelfInstructParsers.Bootstrap("Here are more tasks:\n9. Name a bird.\n10. Name a fish.", false, chat: true).Select(p => p.Instruction));
        Assert.Equal(["Name a bird.", "Name a fish."],
            SelfInstructParsers.Bootstrap("9. Name a bird.\n10) Name a fish.", false, chat: true).Select(p => p.Instruction));
    }

    [Fact]
    public void Bootstrap_Truncated_DropsEverything()
    {
        var parsed = SelfInstructParsers.Bootstrap(" Name a bird.\n10. Name a fi", truncated: true, chat: false);
        Assert.Equal(2, parsed.Count);
        Assert.All(parsed, p => Assert.Equal(DropReason.Truncated, p.Problem));
    }

    [Theory]
    [InlineData(" Yes", true)]
    [InlineData("yes.", true)]
    [InlineData("**YES**", true)]
    [InlineData("No", false)]
    [InlineData("Yesterday", false)]
    [InlineData("", false)]
    public void IsClassification(string answer, bool expected) => Assert.Equal(expected, SelfInstructParsers.IsClassification(answer));

    [Fact]
    public void Prompts_EndWhereTheTeacherContinues()
    {
        Assert.EndsWith("\nTask: Is the number even?\nIs it classification?", SelfInstructPrompts.Classification(" Is the number even? "));
        Assert.EndsWith("\n\nTask: Sort the list.\n", SelfInstructPrompts.Instances("Sort the list.", isClassification: false));
        Assert.StartsWith("Given the classification task definition", SelfInstructPrompts.Instances("x", isClassification: true));
    }

    static DeterministicRandom Random(int task = 0) => new(42, 5, task);

    [Fact]
    public void GenerationInstances_AreReadAndFiltered()
    {
        string answer = "Example 1\nList: 3, 1\nOutput: 1, 3\nExample 2\nList: 5, 4\nOutput: 4, 5\n" +
                        "Example 3\nList: 7\nOutput: List: 7\nExample 4\nList: 9\nOutput:\nExample 5\nList: 8, 2\nOutput: The sorted list is:\n" +
                        "Example 6\nList: 5, 4\nOutput: 4, 5\nExample 7\nList: 6, 6\nOutput: 6, 6";
        var prepared = InstancePreparation.Prepare(answer, isClassification: false, truncated: true, Random());
        Assert.Equal([new TaskInstance("List: 3, 1", "1, 3"), new TaskInstance("List: 5, 4", "4, 5")], prepared.Kept);
        Assert.Equal([DropReason.Truncated, DropReason.InputEqualsOutput, DropReason.EmptyOutput, DropReason.EndsWithColon, DropReason.DuplicateInstance],
                     prepared.Dropped.Select(d => d.Reason));
        Assert.Null(prepared.NoInstancesDetail);
    }

    [Fact]
    public void ConflictingOutputs_DropTheWholeTask()
    {
        var prepared = InstancePreparation.Prepare("Example 1\nA\nOutput: x\nExample 2\nA\nOutput: y\nExample 3\nB\nOutput: z", false, false, Random());
        Assert.Empty(prepared.Kept);
        Assert.All(prepared.Dropped, d => Assert.Equal(DropReason.ConflictingOutputs, d.Reason));
        Assert.Equal(3, prepared.Dropped.Count);
        Assert.NotNull(prepared.NoInstancesDetail);
    }

    [Fact]
    public void SingleOutput_AndNoInstances()
    {
        Assert.Equal([new TaskInstance("", "- a\n- b")], InstancePreparation.Prepare("Output:\n- a\n- b", false, false, Random()).Kept);
        var none = InstancePreparation.Prepare("Sorry, I can't.", false, false, Random());
        Assert.Empty(none.Kept);
        Assert.Contains("neither", none.NoInstancesDetail);
    }

    [Fact]
    public void ClassificationInstances_AreOutputFirst()
    {
        string answer = "Class label: Positive\nReview: Great food.\nClass label: Negative\nReview: Cold soup.\nClass label: Neutral";
        var prepared = InstancePreparation.Prepare(answer, isClassification: true, truncated: false, Random());
        Assert.Equal([new TaskInstance("Review: Great food.", "Positive"), new TaskInstance("Review: Cold soup.", "Negative"), new TaskInstance("", "Neutral")],
                     prepared.Kept);
        Assert.Contains("Class label", InstancePreparation.Prepare("Positive", true, false, Random()).NoInstancesDetail);
    }

    [Fact]
    public void AtMostFiveInstances_ChosenReproducibly_InTheOrderWritten()
    {
        string answer = string.Concat(Enumerable.Range(1, 9).Select(i => $"Example {i}\nN: {i}\nOutput: {i * i}\n"));
        var a = InstancePreparation.Prepare(answer, false, false, Random(3));
        var b = InstancePreparation.Prepare(answer, false, false, Random(3));
        Assert.Equal(5, a.Kept.Count);
        Assert.Equal(a.Kept, b.Kept);
        Assert.Equal(4, a.Dropped.Count(d => d.Reason == DropReason.OverInstanceLimit));
        var kept = a.Kept.Select(k => int.Parse(k.Output)).ToList();
        Assert.Equal(kept.Order(), kept);
        var others = Enumerable.Range(4, 30).Select(t => InstancePreparation.Prepare(answer, false, false, Random(t)).Kept).ToList();
        Assert.Contains(others, o => !o.SequenceEqual(a.Kept));
    }
}
