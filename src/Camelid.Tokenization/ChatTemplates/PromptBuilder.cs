using System.Text;

namespace Camelid.Tokenization.ChatTemplates;

/// <summary>Collects prompt text, keeping control-token text apart from plain text.</summary>
internal sealed class PromptBuilder
{
    readonly List<PromptSegment> segments = [];
    readonly StringBuilder text = new();

    public PromptBuilder Text(string plain)
    {
        text.Append(plain);
        return this;
    }

    public PromptBuilder Special(string controlTokenText)
    {
        FlushText();
        segments.Add(new PromptSegment(controlTokenText, IsSpecial: true));
        return this;
    }

    public IReadOnlyList<PromptSegment> Build()
    {
        FlushText();
        return segments.ToArray();
    }

    void FlushText()
    {
        if (text.Length == 0)
            return;
        segments.Add(new PromptSegment(text.ToString(), IsSpecial: false));
        text.Clear();
    }
}
