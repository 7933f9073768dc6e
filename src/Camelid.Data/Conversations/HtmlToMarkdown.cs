using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Camelid.Data.Conversations;

/// <summary>
/// Turns the HTML of a ShareGPT answer into Markdown, in the spirit of FastChat's clean_sharegpt.py
/// (bs4 + markdownify 0.11.6), but walking a real HTML5 DOM (AngleSharp) instead of deleting &lt;div&gt;
/// and &lt;span&gt; tags with regexes:
/// <list type="bullet">
/// <item>ChatGPT code blocks (<c>&lt;pre&gt;&lt;div&gt;…&lt;span&gt;python&lt;/span&gt;&lt;button&gt;Copy code&lt;/button&gt;…&lt;code class="language-python"&gt;</c>)
///   become <c>```python</c> fences holding the code's text exactly (whitespace and blank lines kept);
///   the header and its "Copy code" button are dropped.</item>
/// <item>Paragraphs and blocks are separated by one blank line; headings are ATX ("## Title", markdownify
///   underlines h1/h2); lists use "- " and "1. " with nested lists indented under their item; tables become
///   GitHub pipe tables; links [text](href); images ![alt](src); blockquotes "&gt; "; &lt;br&gt; a newline.</item>
/// <item>Unlike markdownify's defaults, "_" and "*" in text are not escaped: "snake_case" stays as written
///   (escaped underscores are a known blemish of Vicuna's data).</item>
/// <item>script, style, button, svg and similar elements are dropped with their text.</item>
/// </list>
/// </summary>
public static partial class HtmlToMarkdown
{
    // AngleSharp parsers are cheap to reuse but not documented as thread-safe: one per thread.
    static readonly ThreadLocal<HtmlParser> Parser = new(() => new HtmlParser());

    static readonly HashSet<string> BlockTags =
        ["p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "figure", "figcaption",
         "details", "summary", "dl", "dt", "dd", "form", "fieldset", "address", "center"];

    static readonly HashSet<string> DroppedTags =
        ["script", "style", "button", "svg", "noscript", "template", "head", "title", "iframe", "canvas", "input", "select", "textarea"];

    // Tags whose presence at the very start marks a turn as HTML (ShareGPT answers start with <div class="markdown prose …">
    // or <p>); a human turn that merely mentions "<b>" in passing stays plain text.
    static readonly HashSet<string> LeadingTags =
        ["div", "p", "pre", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "span", "code", "br", "hr",
         "strong", "em", "b", "i", "a", "section", "article"];

    /// <summary>
    /// True when the text starts (after blanks) with a known HTML element tag and contains a closing tag or
    /// &lt;br&gt;: ShareGPT's answers are HTML, its questions plain text that must not be parsed (a question
    /// that pastes "List&lt;int&gt;" would otherwise lose text).
    /// </summary>
    public static bool LooksLikeHtml(string text)
    {
        var m = LeadingTagRegex().Match(text);
        return m.Success && LeadingTags.Contains(m.Groups[1].Value.ToLowerInvariant())
               && (text.Contains("</", StringComparison.Ordinal) || text.Contains("<br", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The Markdown for an HTML fragment.</summary>
    public static string Convert(string html)
    {
        var document = Parser.Value!.ParseDocument(html);
        var renderer = new Renderer();
        string markdown = renderer.Children(document.Body ?? (INode)document.DocumentElement, default);
        return renderer.Finish(markdown);
    }

    readonly record struct Context(int ListDepth, bool InTable);

    /// <summary>
    /// One conversion. Code blocks are kept out of the text as placeholders until the end, so whitespace
    /// normalisation never touches code, then substituted with the indentation of the line they sit on.
    /// </summary>
    sealed class Renderer
    {
        const char PlaceholderMark = '\uE000'; // private use: cannot come from the HTML's text in practice
        readonly List<string> _codeBlocks = [];

        public string Children(INode node, Context context)
        {
            var text = new StringBuilder();
            foreach (var child in node.ChildNodes)
            {
                string piece = Node(child, context);
                // No stray space at the start or end of a line where inline text meets a block.
                if (piece.StartsWith('\n') && text.Length > 0 && text[^1] == ' ')
                    text.Length--;
                else if (piece.StartsWith(' ') && text.Length > 0 && text[^1] == '\n')
                    piece = piece.TrimStart(' ');
                text.Append(piece);
            }
            return text.ToString();
        }

        string Node(INode node, Context context)
        {
            if (node is IText textNode)
                return WhitespaceRun().Replace(textNode.Data.Replace(PlaceholderMark, ' '), " ");
            if (node is not IElement element)
                return "";
            string tag = element.LocalName;
            if (DroppedTags.Contains(tag))
                return "";
            if (BlockTags.Contains(tag))
                return Block(Children(element, context).Trim(' '), context);
            return tag switch
            {
                "br" => context.InTable ? " " : "\n",
                "hr" => Block("---", context),
                "h1" or "h2" or "h3" or "h4" or "h5" or "h6" =>
                    Block(new string('#', tag[1] - '0') + " " + Flatten(Children(element, context)), context),
                "strong" or "b" => Wrap(Children(element, context), "**"),
                "em" or "i" => Wrap(Children(element, context), "*"),
                "del" or "s" or "strike" => Wrap(Children(element, context), "~~"),
                "code" or "kbd" or "samp" or "tt" => InlineCode(element.TextContent),
                "pre" => context.InTable ? InlineCode(element.TextContent) : CodeBlock(element, context),
                "a" => Link(element, context),
                "img" => Image(element),
                "ul" or "ol" => List(element, context),
                "li" => Block("- " + Children(element, context).Trim(), context), // an item outside any list
                "blockquote" => Quote(element, context),
                "table" => context.InTable ? Flatten(Children(element, context)) : Table(element, context),
                _ => Children(element, context),
            };
        }

        static string Block(string content, Context context) =>
            context.InTable ? " " + content + " " : "\n\n" + content + "\n\n";

        /// <summary>Emphasis markers go around the text, not around its edge spaces ("a&lt;b&gt; b &lt;/b&gt;c" → "a **b** c").</summary>
        static string Wrap(string inner, string marker)
        {
            string trimmed = inner.Trim();
            if (trimmed.Length == 0)
                return inner;
            string lead = inner[..(inner.Length - inner.TrimStart().Length)];
            string trail = inner[inner.TrimEnd().Length..];
            return lead + marker + trimmed + marker + trail;
        }

        static string InlineCode(string code)
        {
            code = WhitespaceRun().Replace(code, " ");
            if (code.Trim().Length == 0)
                return code;
            // CommonMark: a run of backticks longer than any inside delimits the span; pad when the code starts or ends with one.
            string fence = new('`', LongestRun(code, '`') + 1);
            string pad = code.StartsWith('`') || code.EndsWith('`') ? " " : "";
            return fence + pad + code + pad + fence;
        }

        string CodeBlock(IElement pre, Context context)
        {
            // ChatGPT: <pre><div><div>python<button>Copy code</button></div><div><code class="language-python">…</code></div></div></pre>
            var code = pre.QuerySelector("code");
            string language = "";
            string text;
            if (code != null)
            {
                language = code.ClassList.FirstOrDefault(c => c.StartsWith("language-", StringComparison.Ordinal))?["language-".Length..]
                           ?? code.ClassList.FirstOrDefault(c => c.StartsWith("lang-", StringComparison.Ordinal))?["lang-".Length..] ?? "";
                text = code.TextContent;
            }
            else
            {
                foreach (var dropped in pre.QuerySelectorAll(string.Join(',', DroppedTags)).ToList())
                    dropped.Remove();
                text = pre.TextContent;
            }
            text = text.Replace("\r\n", "\n").Trim('\n').TrimEnd();
            string fence = new('`', Math.Max(3, LongestRun(text, '`') + 1));
            _codeBlocks.Add(fence + language + "\n" + text + "\n" + fence);
            return Block($"{PlaceholderMark}{_codeBlocks.Count - 1}{PlaceholderMark}", context);
        }

        string Link(IElement a, Context context)
        {
            string text = Children(a, context).Trim();
            string href = a.GetAttribute("href")?.Trim() ?? "";
            if (href.Length == 0 || href.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase))
                return text;
            if (text.Length == 0 || text == href)
                return "<" + href + ">";
            string title = a.GetAttribute("title") is { Length: > 0 } t ? $" \"{t.Replace("\"", "\\\"")}\"" : "";
            return $"[{text}]({href.Replace(" ", "%20")}{title})";
        }

        static string Image(IElement img)
        {
            string src = img.GetAttribute("src")?.Trim() ?? "";
            return src.Length == 0 ? "" : $"![{img.GetAttribute("alt") ?? ""}]({src.Replace(" ", "%20")})";
        }

        string List(IElement list, Context context)
        {
            bool ordered = list.LocalName == "ol";
            int number = ordered && int.TryParse(list.GetAttribute("start"), out int start) ? start : 1;
            var inner = context with { ListDepth = context.ListDepth + 1 };
            var items = new List<string>();
            foreach (var child in list.Children)
            {
                if (child.LocalName is "ul" or "ol") // a list nested without an <li>, seen in pasted HTML
                {
                    items.Add(Indent(List(child, inner).Trim('\n'), "  "));
                    continue;
                }
                if (child.LocalName != "li")
                    continue;
                string marker = ordered ? $"{number++}. " : "- ";
                string content = CollapseBlankLines(Children(child, inner)).Trim('\n', ' ');
                items.Add(marker + Indent(content, new string(' ', marker.Length)));
            }
            string body = string.Join("\n", items);
            // A nested list continues its item on the next line; a top-level list is a block of its own.
            return context.ListDepth > 0 && !context.InTable ? "\n" + body + "\n" : Block(body, context);
        }

        string Quote(IElement quote, Context context)
        {
            string content = MultipleBlankLines().Replace(Children(quote, context), "\n\n").Trim('\n', ' ');
            return Block(string.Join("\n", content.Split('\n').Select(line => line.Length == 0 ? ">" : "> " + line)), context);
        }

        string Table(IElement table, Context context)
        {
            var cellContext = context with { InTable = true };
            var rows = table.QuerySelectorAll("tr")
                .Where(tr => tr.Closest("table") == table) // not the rows of a nested table
                .Select(tr => tr.Children.Where(c => c.LocalName is "td" or "th")
                    .Select(c => Flatten(Children(c, cellContext)).Replace("|", "\\|")).ToList())
                .Where(cells => cells.Count > 0)
                .ToList();
            if (rows.Count == 0)
                return "";
            int columns = rows.Max(r => r.Count);
            var text = new StringBuilder();
            void Row(List<string> cells) =>
                text.Append("| ").Append(string.Join(" | ", cells.Concat(Enumerable.Repeat("", columns - cells.Count)))).Append(" |\n");
            Row(rows[0]); // GitHub tables need a header row: the first row is it, <th> or not
            text.Append('|').Append(string.Concat(Enumerable.Repeat(" --- |", columns))).Append('\n');
            foreach (var row in rows.Skip(1))
                Row(row);
            return Block(text.ToString().TrimEnd('\n'), context);
        }

        /// <summary>Trailing blanks off every line, at most one blank line in a row, code blocks put back.</summary>
        public string Finish(string markdown)
        {
            var lines = markdown.Split('\n').Select(line => line.TrimEnd());
            string text = MultipleBlankLines().Replace(string.Join("\n", lines), "\n\n").Trim('\n', ' ');
            return Placeholder().Replace(text, m =>
            {
                string block = _codeBlocks[int.Parse(m.Groups[2].Value)];
                string prefix = m.Groups[1].Value; // the list indentation or "> " the fence sits behind
                return string.Join("\n", block.Split('\n').Select(line => line.Length == 0 ? prefix.TrimEnd() : prefix + line));
            });
        }

        static string Flatten(string text) => WhitespaceRun().Replace(text, " ").Trim();

        static string CollapseBlankLines(string text) => MultipleNewlines().Replace(text, "\n");

        static string Indent(string text, string prefix) => text.Replace("\n", "\n" + prefix);
    }

    static int LongestRun(string text, char c)
    {
        int longest = 0, run = 0;
        foreach (char ch in text)
        {
            run = ch == c ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        return longest;
    }

    [GeneratedRegex(@"^\s*<([a-zA-Z][a-zA-Z0-9]*)[\s>/]")]
    private static partial Regex LeadingTagRegex();

    [GeneratedRegex(@"[ \t\r\n\f]+")]
    private static partial Regex WhitespaceRun();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex MultipleBlankLines();

    [GeneratedRegex(@"\n{2,}")]
    private static partial Regex MultipleNewlines();

    [GeneratedRegex("(^[ >]*)?\uE000(\\d+)\uE000", RegexOptions.Multiline)]
    private static partial Regex Placeholder();
}
