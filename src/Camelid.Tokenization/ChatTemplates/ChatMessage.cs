namespace Camelid.Tokenization.ChatTemplates;

public enum ChatRole { System, User, Assistant }

public sealed record ChatMessage(ChatRole Role, string Content);

/// <summary>
/// One piece of a rendered prompt. <see cref="IsSpecial"/> pieces are the text of a single control
/// token ("&lt;/s&gt;", "&lt;|eot_id|&gt;", "&lt;|im_start|&gt;") that must be encoded as that token's id;
/// every other piece (format text and the messages themselves) is encoded as plain text, so a
/// user who types "&lt;/s&gt;" cannot end the turn for the model.
/// </summary>
public readonly record struct PromptSegment(string Text, bool IsSpecial);
