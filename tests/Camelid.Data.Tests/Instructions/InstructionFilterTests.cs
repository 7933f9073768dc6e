using Camelid.Data.Instructions;

namespace Camelid.Data.Tests.Instructions;

public class InstructionFilterTests
{
    [Theory]
    [InlineData("Name three colors.", "too_short", "3 words")]                 // Alpaca drops len(split()) <= 3
    [InlineData("Name three primary colors.", null, null)]
    [InlineData("Describe the image below in detail.", "forbidden_word", "image")]
    [InlineData("Which MAPS show the old trade routes?", "forbidden_word", "maps")]
    [InlineData("Tell me how to go to the station from the airport.", "forbidden_word", "go to")]
    [InlineData("Compose background music for a short film scene.", "forbidden_word", "music")]
    [InlineData("Explain how mapping functions work in Python.", null, null)] // "map" only as a whole word
    [InlineData("Summarize this profile of the filed report.", null, null)]
    [InlineData("Write a program that prints the first ten primes.", "write_a_program", null)]
    [InlineData("write a program that prints the first ten primes.", null, null)] // Alpaca's check is case-sensitive
    [InlineData("\"Quote\" the most famous line of the speech.", "leading_punctuation", "\"")]
    [InlineData("- List five ways to save energy at home.", "leading_punctuation", "-")]
    [InlineData("Ñandú is a bird; describe where it lives.", "non_ascii_start", "Ñ")]
    [InlineData("", "too_short", "0 words")]
    public void Check(string instruction, string? reason, string? detail)
    {
        var verdict = InstructionFilter.Check(instruction);
        Assert.Equal(reason, verdict?.Reason);
        Assert.Equal(detail, verdict?.Detail);
    }

    [Fact]
    public void WordLimits_AreAlpacas()
    {
        string Words(int n) => "Explain " + string.Join(' ', Enumerable.Repeat("word", n - 1));
        Assert.Equal(DropReason.TooShort, InstructionFilter.Check(Words(3))?.Reason);
        Assert.Null(InstructionFilter.Check(Words(4)));
        Assert.Null(InstructionFilter.Check(Words(150)));
        Assert.Equal(DropReason.TooLong, InstructionFilter.Check(Words(151))?.Reason);
        Assert.Equal(4, InstructionFilter.CountWords(" a\tb\n c  d "));
    }

    [Fact]
    public void EveryForbiddenWord_IsCaughtAsAWholeWord()
    {
        foreach (var word in InstructionFilter.ForbiddenWords)
        {
            Assert.Equal(DropReason.ForbiddenWord, InstructionFilter.Check($"Please explain the {word} to me briefly.")?.Reason);
            Assert.Null(InstructionFilter.Check($"Please explain the x{word.Replace(" ", "")}y to me briefly."));
        }
    }
}
