using Camelid.Data.Conversations;

namespace Camelid.Data.Tests.Conversations;

public class ShareGptArtifactsTests
{
    [Theory]
    [InlineData("2 / 2Write me a poem", "Write me a poem")]
    [InlineData("1 / 1\nWrite me a poem", "Write me a poem")]
    [InlineData("3 / 4 cup of flour, then?", "3 / 4 cup of flour, then?")]
    [InlineData("5 / 2Things", "5 / 2Things")]
    [InlineData("Here:\n```pythonCopy codeprint(1)\n```", "Here:\n```python\nprint(1)\n```")]
    [InlineData("```Copy code```\nrest", "rest")]
    [InlineData("Copy123 chars / 20 wordsText", "Text")]
    [InlineData("  plain text \n", "plain text")]
    public void Remove(string text, string expected) => Assert.Equal(expected, ShareGptArtifacts.Remove(text));
}
