using System.Text;

namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// Collects prompt text, keeping control-token text apart from plain text, and remembers which message's turn each
/// piece belongs to and which pieces are the assistant's reply (for training). A prompt for generation ignores the
/// tags: adjacent plain pieces are joined back into one, whatever turn they belong to.
/// </summary>
internal sealed class PromptBuilder
{
    readonly List<TrainingSegment> segments = [];
    readonly StringBuilder text = new();
    int message = -1;
    bool trained;

    public PromptBuilder Text(string plain)
    {
        text.Append(plain);
        return this;
    }

    public PromptBuilder Special(string controlTokenText)
    {
        FlushText();
        segments.Add(new TrainingSegment(controlTokenText, IsSpecial: true, message, trained));
        return this;
    }

    /// <summary>What follows is part of the turn of message <paramref name="messageIndex"/> (-1: of no message); not trained.</summary>
    public PromptBuilder Turn(int messageIndex)
    {
        if (messageIndex == message && !trained)
            return this;
        FlushText();
        message = messageIndex;
        trained = false;
        return this;
    }

    /// <summary>What follows, up to <see cref="EndReply"/>, is what the model learns to write in the current turn.</summary>
    public PromptBuilder Reply()
    {
        FlushText();
        trained = true;
        return this;
    }

    public PromptBuilder EndReply()
    {
        FlushText();
        trained = false;
        return this;
    }

    public IReadOnlyList<PromptSegment> Build()
    {
        FlushText();
        var prompt = new List<PromptSegment>(segments.Count);
        var plain = new StringBuilder();
        foreach (var segment in segments)
        {
            if (!segment.IsSpecial)
            {
                plain.Append(segment.Text);
                continue;
            }
            FlushPlain();
            prompt.Add(new PromptSegment(segment.Text, IsSpecial: true));
        }
        FlushPlain();
        return prompt.ToArray();

        void FlushPlain()
        {
            if (plain.Length == 0)
                return;
            prompt.Add(new PromptSegment(plain.ToString(), IsSpecial: false));
            plain.Clear();
        }
    }

    public IReadOnlyList<TrainingSegment> BuildTraining()
    {
        FlushText();
        return segments.ToArray();
    }

    void FlushText()
    {
        if (text.Length == 0)
            return;
        segments.Add(new TrainingSegment(text.ToString(), IsSpecial: false, message, trained));
        text.Clear();
    }
}
