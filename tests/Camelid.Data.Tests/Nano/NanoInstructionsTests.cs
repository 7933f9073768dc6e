using Camelid.Data.Nano;
using Camelid.Tests;

namespace Camelid.Data.Tests.Nano;

public class NanoInstructionsTests
{
    static readonly NanoSkill[] AllSkills = Enum.GetValues<NanoSkill>();

    [Fact]
    public void SameSeed_SameExamples_DifferentSeed_DifferentExamples()
    {
        string Dump(int seed, NanoSplit split) => string.Join("\n\n", NanoInstructions.Generate(seed, 30, split)
            .Select(e => $"{e.Skill}\n{string.Join("\n", e.Messages.Select(m => $"{m.Role}: {m.Content}"))}"));
        foreach (var split in new[] { NanoSplit.Train, NanoSplit.HeldOut })
        {
            Assert.Equal(Dump(7, split), Dump(7, split));
            Assert.NotEqual(Dump(7, split), Dump(8, split));
        }
    }

    [Theory]
    [InlineData(NanoSplit.Train, 40)]
    [InlineData(NanoSplit.HeldOut, 25)]
    public void EverySkill_HasTheRequestedCount_Interleaved(NanoSplit split, int perSkill)
    {
        var examples = NanoInstructions.Generate(3, perSkill, split).ToList();
        Assert.Equal(perSkill * AllSkills.Length, examples.Count);
        foreach (var skill in AllSkills)
            Assert.Equal(perSkill, examples.Count(e => e.Skill == skill));
        Assert.Equal(AllSkills, examples.Take(AllSkills.Length).Select(e => e.Skill));
        if (split == NanoSplit.HeldOut)
            Assert.Equal(examples.Count, examples.Select(e => e.PromptText).Distinct().Count());
    }

    [Fact]
    public void UnequalCounts_GiveEachSkillItsOwnCount_AndOnlyAddToTheEqualMix()
    {
        var counts = AllSkills.ToDictionary(skill => skill, skill => skill == NanoSkill.Arithmetic ? 25 : skill == NanoSkill.Facts ? 0 : 10);
        var examples = NanoInstructions.Generate(5, counts, NanoSplit.Train).ToList();
        foreach (var skill in AllSkills)
            Assert.Equal(counts[skill], examples.Count(e => e.Skill == skill));
        // Once the others run out, the rest is arithmetic.
        Assert.All(examples.Skip(examples.Count - 15), e => Assert.Equal(NanoSkill.Arithmetic, e.Skill));

        // Example i of a skill does not depend on how many are asked for.
        string Text(NanoExample e) => string.Join("\n", e.Messages.Select(m => $"{m.Role}: {m.Content}"));
        var equal = NanoInstructions.Generate(5, 10, NanoSplit.Train).ToList();
        foreach (var skill in AllSkills.Where(s => s != NanoSkill.Facts))
            Assert.Equal(equal.Where(e => e.Skill == skill).Select(Text), examples.Where(e => e.Skill == skill).Take(10).Select(Text));
    }

    [Theory]
    [InlineData(NanoSplit.Train, 1, 300)]
    [InlineData(NanoSplit.HeldOut, 99, 100)]
    public void EveryExpectedAnswer_IsRight(NanoSplit split, int seed, int perSkill)
    {
        foreach (var example in NanoInstructions.Generate(seed, perSkill, split))
        {
            var assistant = example.Messages.Where(m => m.Role == "assistant").Select(m => m.Content).ToList();
            Assert.Equal(assistant[^1], example.ExpectedAnswer);
            Assert.Equal("assistant", example.Messages[^1].Role);
            Assert.True(NanoAnswerOracle.Answers(example).SequenceEqual(assistant),
                $"{example.Skill}: {example.PromptText}\nexpected by the oracle: {string.Join(" | ", NanoAnswerOracle.Answers(example))}\ngenerated: {string.Join(" | ", assistant)}");
        }
    }

    [Fact]
    public void Conversations_AlternateRoles_AndSomeHaveSeveralExchanges()
    {
        var examples = NanoInstructions.Generate(5, 200, NanoSplit.Train).ToList();
        foreach (var example in examples)
        {
            var roles = example.Messages.Select(m => m.Role).SkipWhile(r => r == "system").ToList();
            Assert.Equal(roles.Count, 2 * roles.Count(r => r == "user"));
            Assert.All(roles.Chunk(2), pair => Assert.Equal(["user", "assistant"], pair));
        }
        foreach (var skill in AllSkills)
        {
            var exchanges = examples.Where(e => e.Skill == skill).Select(e => e.Messages.Count(m => m.Role == "user")).ToList();
            // One, two and three exchanges in 7:2:1 proportions; each must show up in 200 conversations.
            Assert.Contains(1, exchanges);
            Assert.Contains(2, exchanges);
            Assert.Contains(3, exchanges);
        }
    }

    [Fact]
    public void HeldOutPrompts_NeverAppearInTraining_FromAnySeed()
    {
        var heldOut = NanoInstructions.Generate(99, 100, NanoSplit.HeldOut).ToList();
        var heldOutPrompts = heldOut.Select(e => e.PromptText).ToHashSet();
        var heldOutOpenings = heldOut.Select(e => UserTurnsWithSystem(e).First()).ToHashSet();
        int trainingSeen = 0;
        for (int seed = 1; seed <= 20; seed++)
            foreach (var example in NanoInstructions.Generate(seed, 300, NanoSplit.Train))
            {
                trainingSeen++;
                Assert.DoesNotContain(example.PromptText, heldOutPrompts);
                // Stronger: no held-out question is asked in training under the same system prompt, not even as a
                // later turn (computed skills are also held out by problem, checked below).
                foreach (string turn in UserTurnsWithSystem(example))
                    Assert.DoesNotContain(turn, heldOutOpenings);
            }
        Assert.Equal(20 * 300 * AllSkills.Length, trainingSeen);
    }

    static IEnumerable<string> UserTurnsWithSystem(NanoExample example)
    {
        string system = example.Messages.FirstOrDefault(m => m.Role == "system").Content ?? "";
        foreach (var (role, content) in example.Messages)
            if (role == "user")
                yield return $"{example.Skill}|{system}|{content}";
    }

    [Fact]
    public void HeldOutArithmeticProblems_AreNeverSolvedInTraining_InAnyWording()
    {
        static IEnumerable<(int A, char Op, int B)> Problems(NanoExample e)
        {
            var users = e.Messages.Where(m => m.Role == "user").Select(m => m.Content).ToList();
            var assistants = e.Messages.Where(m => m.Role == "assistant").Select(m => int.Parse(m.Content)).ToList();
            var numbers = System.Text.RegularExpressions.Regex.Matches(users[0], @"\d+").Select(m => int.Parse(m.Value)).ToList();
            string q = users[0];
            char op = q.Contains('*') || q.Contains("times") || q.Contains("ultipl") ? '*'
                : q.Contains('-') || q.Contains("minus") || q.StartsWith("Subtract") || q.StartsWith("Take") ? '-' : '+';
            yield return q.StartsWith("Subtract") || q.StartsWith("Take") ? (numbers[1], op, numbers[0]) : (numbers[0], op, numbers[1]);
            for (int i = 1; i < users.Count; i++)
                yield return (assistants[i - 1], assistants[i] > assistants[i - 1] ? '+' : '-', Math.Abs(assistants[i] - assistants[i - 1]));
        }
        var heldOut = NanoInstructions.GenerateSkill(99, NanoSkill.Arithmetic, 200, NanoSplit.HeldOut).SelectMany(Problems).ToHashSet();
        for (int seed = 1; seed <= 20; seed++)
            foreach (var example in NanoInstructions.GenerateSkill(seed, NanoSkill.Arithmetic, 300, NanoSplit.Train))
                foreach (var problem in Problems(example))
                    Assert.DoesNotContain(problem, heldOut);
    }

    [Fact]
    public void HeldOutRule_KeepsAboutTenPercent_AndIsFixed()
    {
        int heldOut = Enumerable.Range(0, 100_000).Count(i => NanoHeldOut.SplitOf($"arithmetic:{i}") == NanoSplit.HeldOut);
        Assert.InRange(heldOut, 9_700, 10_300); // 10% ± 3.2σ for a binomial(100000, 0.1)
        // Pinned values: changing the hash would move prompts between the splits of every published run.
        Assert.Equal(67, NanoHeldOut.Bucket("arithmetic:47 + 25"));
        Assert.Equal(98, NanoHeldOut.Bucket("facts:\nWhat colour is grass?"));
        Assert.Equal(57, NanoHeldOut.Bucket("words:sort:apple,fig,pear"));
        Assert.Equal(40, NanoHeldOut.Bucket("units:7 km>m"));
        Assert.Equal(14, NanoHeldOut.Bucket("help:\nHow do I serve a model?"));
        Assert.Equal(NanoSplit.Train, NanoHeldOut.SplitOf("help:\nHow do I serve a model?"));
    }

    [Fact]
    public void TooManyHeldOutPrompts_ForASmallSpace_FailsWithAMessage()
    {
        var e = Assert.Throws<InvalidOperationException>(() => NanoInstructions.GenerateSkill(1, NanoSkill.CommandHelp, 5000, NanoSplit.HeldOut));
        Assert.Contains("command-help", e.Message);
    }

    [Fact]
    public void Facts_SpotChecks_AgainstIndependentKnowledge()
    {
        string AnswerTo(string question) => NanoFacts.All.Single(f => f.Questions.Contains(question)).Answer;
        Assert.Equal("Paris", AnswerTo("What is the capital of France?"));
        Assert.Equal("Canberra", AnswerTo("What is the capital of Australia?"));
        Assert.Equal("8", AnswerTo("How many legs does a spider have?"));
        Assert.Equal("One", AnswerTo("How many humps does a dromedary camel have?"));
        Assert.Equal("Two", AnswerTo("How many humps does a Bactrian camel have?"));
        Assert.Equal("The guanaco", AnswerTo("What is the wild ancestor of the llama?"));
        Assert.Equal("The vicuña", AnswerTo("What is the wild ancestor of the alpaca?"));
        Assert.Equal("Jupiter", AnswerTo("What is the largest planet in the Solar System?"));
        Assert.Equal("100 degrees Celsius", AnswerTo("What is the boiling point of water at sea level in degrees Celsius?"));
        Assert.InRange(NanoFacts.All.Count, 40, 80);
        Assert.Equal(NanoFacts.All.Count, NanoFacts.All.Select(f => f.Id).Distinct().Count());
    }

    [Fact]
    public void UnitTable_MatchesTheMetricAndClockDefinitions()
    {
        var factors = NanoUnits.Table.ToDictionary(t => $"{t.Larger.Symbol}>{t.Smaller.Symbol}", t => t.Factor);
        Assert.Equal(new Dictionary<string, int> { ["km>m"] = 1000, ["m>cm"] = 100, ["kg>g"] = 1000, ["h>min"] = 60, ["min>s"] = 60 }, factors);
        Assert.Equal(10, NanoUnits.Conversions.Count);
    }

    [Fact]
    public void SystemRules_AreRecognisedFromTheirPrompts()
    {
        foreach (var (rule, prompts) in NanoSystemRules.Prompts)
            foreach (string prompt in prompts)
                Assert.Equal(rule, NanoSystemRules.RuleOf(prompt));
        Assert.Null(NanoSystemRules.RuleOf("You are a helpful assistant."));
        Assert.Equal("PARIS", NanoSystemRules.Apply(NanoSystemRule.Uppercase, "Paris"));
        Assert.Equal("Sure: 72", NanoSystemRules.Apply(NanoSystemRule.StartWithSure, "72"));
        Assert.Equal("Blue!", NanoSystemRules.Apply(NanoSystemRule.EndWithExclamation, "Blue"));
    }
}
