using Camelid.Data.Conversations;

namespace Camelid.Data.Tests.Conversations;

public class HtmlToMarkdownTests
{
    [Fact]
    public void ParagraphsEmphasisAndLinks()
    {
        Assert.Equal("Hello **world**, see [this](https://x.org/a%20b) and <https://y.org>.\n\nSecond *one* ~~gone~~",
            HtmlToMarkdown.Convert("<p>Hello <strong>world</strong>, see <a href=\"https://x.org/a b\">this</a> and <a href=\"https://y.org\">https://y.org</a>.</p>\n  <p>Second <em>one</em> <del>gone</del></p>"));
    }

    [Fact]
    public void ChatGptCodeBlock_KeepsCodeExactly_AndDropsTheHeader()
    {
        const string html =
            "<div class=\"markdown prose w-full break-words dark:prose-invert light\"><p>Here:</p>" +
            "<pre><div class=\"bg-black mb-4 rounded-md\"><div class=\"flex items-center\"><span class=\"\">python</span>" +
            "<button class=\"flex ml-auto gap-2\"><svg></svg>Copy code</button></div>" +
            "<div class=\"p-4 overflow-y-auto\"><code class=\"!whitespace-pre hljs language-python\">" +
            "<span class=\"hljs-keyword\">def</span> <span class=\"hljs-title function_\">f</span>(x_1):\n    if x_1 &lt; 2:\n\n\n        return x_1 * 2\n</code></div></div></pre>" +
            "<p>Done.</p></div>";
        Assert.Equal("Here:\n\n```python\ndef f(x_1):\n    if x_1 < 2:\n\n\n        return x_1 * 2\n```\n\nDone.", HtmlToMarkdown.Convert(html));
    }

    [Fact]
    public void CodeContainingFences_GetsALongerFence()
    {
        Assert.Equal("````\nuse ``` here\n````", HtmlToMarkdown.Convert("<pre><code>use ``` here</code></pre>"));
    }

    [Fact]
    public void PreWithoutCode_DropsButtons()
    {
        Assert.Equal("```\nx = 1\n```", HtmlToMarkdown.Convert("<pre><button>Copy code</button>x = 1\n</pre>"));
    }

    [Fact]
    public void NestedLists_AreIndentedUnderTheirItem()
    {
        const string html = "<ol start=\"3\">\n  <li>First</li>\n  <li>Second\n    <ul>\n      <li>inner a</li>\n      <li>inner <b>b</b></li>\n    </ul>\n  </li>\n</ol><p>After</p>";
        Assert.Equal("3. First\n4. Second\n   - inner a\n   - inner **b**\n\nAfter", HtmlToMarkdown.Convert(html));
    }

    [Fact]
    public void CodeBlockInAListItem_IsIndentedWithIt()
    {
        Assert.Equal("1. Run:\n   ```bash\n   ls -la\n\n   pwd\n   ```\n2. Then",
            HtmlToMarkdown.Convert("<ol><li><p>Run:</p><pre><code class=\"language-bash\">ls -la\n\npwd</code></pre></li><li>Then</li></ol>"));
    }

    [Fact]
    public void Tables_BecomePipeTables()
    {
        const string html = "<table><thead><tr><th>Name</th><th>Age</th></tr></thead>" +
                            "<tbody><tr><td>Ann</td><td>3<br>yrs</td></tr><tr><td>a|b</td></tr></tbody></table>";
        Assert.Equal("| Name | Age |\n| --- | --- |\n| Ann | 3 yrs |\n| a\\|b |  |", HtmlToMarkdown.Convert(html));
    }

    [Fact]
    public void HeadingsInlineCodeAndUnderscores_AreNotEscaped()
    {
        Assert.Equal("## Title *here*\n\nUse `x_y` and snake_case, a < b && c, ``a`b``",
            HtmlToMarkdown.Convert("<h2>Title <em>here</em></h2><p>Use <code>x_y</code> and snake_case, a &lt; b &amp;&amp; c, <code>a`b</code></p>"));
    }

    [Fact]
    public void BlockquotesImagesRulesAndBreaks()
    {
        Assert.Equal("> quoted\n>\n> two\n\n---\n\n![a cat](cat.png)\nline two",
            HtmlToMarkdown.Convert("<blockquote><p>quoted</p><p>two</p></blockquote><hr><p><img src=\"cat.png\" alt=\"a cat\"><br>line two</p>"));
    }

    [Fact]
    public void ScriptsAndStyles_AreDropped()
    {
        Assert.Equal("kept", HtmlToMarkdown.Convert("<div><style>p{}</style><script>alert(1)</script><p>kept</p></div>"));
    }

    [Theory]
    [InlineData("<div class=\"markdown\"><p>Hi</p></div>", true)]
    [InlineData("  <p>Hello</p>", true)]
    [InlineData("<p>Hello", false)] // no closing tag: probably not HTML
    [InlineData("How do I use List<int> in C#?", false)]
    [InlineData("Hello <b>x</b>", false)]
    [InlineData("<vector> is a header", false)]
    public void LooksLikeHtml(string text, bool expected) => Assert.Equal(expected, HtmlToMarkdown.LooksLikeHtml(text));
}
