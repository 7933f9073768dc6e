namespace Camelid.Tokenization.ChatTemplates;

public enum ChatRole { System, User, Assistant }

public sealed record ChatMessage(ChatRole Role, string Content);

public static class ChatMessageList
{
    /// <summary>
    /// Adds a message, merging it into the previous one (joined by a blank line) when both have the same role:
    /// chat templates alternate user and assistant, while API clients may send two user messages in a row.
    /// </summary>
    public static void AddMerged(this List<ChatMessage> messages, ChatRole role, string content)
    {
        if (messages.Count > 0 && messages[^1].Role == role)
            messages[^1] = messages[^1] with { Content = messages[^1].Content + "\n\n" + content };
        else
            messages.Add(new ChatMessage(role, content));
    }
}

/// <summary>
/// One piece of a rendered prompt. <see cref="IsSpecial"/> pieces are the text of a single control
/// token ("&lt;/s&gt;", "&lt;|eot_id|&gt;", "&lt;|im_start|&gt;") that must be encoded as that token's id;
/// every other piece (format text and the messages themselves) is encoded as plain text, so a
/// user who types "&lt;/s&gt;" cannot end the turn for the model.
/// </summary>
public readonly record struct PromptSegment(string Text, bool IsSpecial);

/// <summary>
/// One piece of a finished conversation rendered for training (<see cref="ChatTemplate.RenderForTraining"/>): the
/// text as in <see cref="PromptSegment"/>, the index of the message whose turn it is part of (its header, its
/// content, the marker that ends it; -1 for format text that belongs to no message, such as a default system prompt
/// or the begin-of-text token), and whether the model learns to write it. Only an assistant reply is trained: its
/// content with the format text the template writes around it inside the reply, and the end-of-turn marker after it
/// ("&lt;/s&gt;", "&lt;|eot_id|&gt;", "&lt;|im_end|&gt;"); headers such as "ASSISTANT:" are not.
/// </summary>
public readonly record struct TrainingSegment(string Text, bool IsSpecial, int MessageIndex, bool IsTrained);
