using Camelid.Data.Instructions;

namespace Camelid.Data.Tests.Instructions;

public class AlpacaResponseParserTests
{
    static void AssertTasks(List<ParsedCandidate> parsed, params (string Instruction, string Input, string Output)[] expected)
    {
        Assert.Equal(expected.Length, parsed.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Null(parsed[i].Problem);
            Assert.Equal(expected[i], (parsed[i].Instruction, parsed[i].Input, parsed[i].Output));
        }
    }

    [Fact]
    public void CompletionStyle_ContinuesThePromptsLabel()
    {
        string text = " Name two rivers in Egypt.\n4. Input:\n<noinput>\n4. Output:\nThe Nile.\n\n###\n" +
                      "5. Instruction: Sort the numbers.\n5. Input:\n3, 1, 2\n5. Output:\n1, 2, 3\n###\n";
        AssertTasks(AlpacaResponseParser.Parse(text, truncated: false),
            ("Name two rivers in Egypt.", "", "The Nile."), ("Sort the numbers.", "3, 1, 2", "1, 2, 3"));
    }

    [Fact]
    public void ChatStyle_RestatedLabels_MarkdownBold_NoSeparators_Preamble_Crlf()
    {
        string text = "Sure! Here are more tasks:\r\n\r\n**4. Instruction:** Name a color.\r\n**4. Input:**\r\n<No Input>\r\n**4. Output:**\r\nBlue\r\n\r\n" +
                      "5) **Instruction**: Add the numbers.\r\n5) Input: 2 and 3\r\n5) Output: 5\r\n" +
                      "### 6. Instruction: Give a synonym of happy.\n6. Output:\nGlad\n";
        AssertTasks(AlpacaResponseParser.Parse(text, truncated: false),
            ("Name a color.", "", "Blue"), ("Add the numbers.", "2 and 3", "5"), ("Give a synonym of happy.", "", "Glad"));
    }

    [Fact]
    public void UnnumberedLabelsInsideAnOutput_DoNotSplitIt()
    {
        string text = " Write a function that reverses a list.\n4. Input:\n<noinput>\n4. Output:\ndef rev(xs):\n    return xs[::-1]\nInput: [1, 2]\nOutput: [2, 1]\n";
        var parsed = AlpacaResponseParser.Parse(text, truncated: false);
        Assert.Single(parsed);
        Assert.EndsWith("Output: [2, 1]", parsed[0].Output);
    }

    [Fact]
    public void MissingOutput_IsUnparsable()
    {
        string text = " Name a fruit.\n4. Input:\n<noinput>\n###\n5. Instruction: Name a vegetable.\n5. Input:\n<noinput>\n5. Output:\nCarrot";
        var parsed = AlpacaResponseParser.Parse(text, truncated: false);
        Assert.Equal(2, parsed.Count);
        Assert.Equal((DropReason.Unparsable, "no output"), (parsed[0].Problem, parsed[0].Detail));
        Assert.Null(parsed[1].Problem);
    }

    [Fact]
    public void Truncated_DropsTheLastTask_UnlessASeparatorClosedIt()
    {
        string text = " Name a fruit.\n4. Input:\n<noinput>\n4. Output:\nApple\n###\n5. Instruction: Name a vegetable.\n5. Input:\n<noinput>\n5. Output:\nCarr";
        var parsed = AlpacaResponseParser.Parse(text, truncated: true);
        Assert.Null(parsed[0].Problem);
        Assert.Equal(DropReason.Truncated, parsed[1].Problem);
        Assert.All(AlpacaResponseParser.Parse(text + "ot\n###\n", truncated: true), p => Assert.Null(p.Problem));
        Assert.Null(AlpacaResponseParser.Parse(text, truncated: false)[1].Problem);
    }

    [Fact]
    public void Garbage_GivesOneUnparsableCandidateOrNothing()
    {
        Assert.Empty(AlpacaResponseParser.Parse("", truncated: false));
        var parsed = AlpacaResponseParser.Parse("I cannot help with that.", truncated: false);
        Assert.Single(parsed);
        Assert.Equal(DropReason.Unparsable, parsed[0].Problem);
    }
}
