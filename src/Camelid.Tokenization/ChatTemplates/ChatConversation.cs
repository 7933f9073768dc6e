namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// One user message and the assistant's answer to it, with their positions in the caller's message list.
/// <see cref="Assistant"/> is null for the open round the model is about to answer.
/// </summary>
internal readonly record struct ChatRound(string User, int UserIndex, string? Assistant, int AssistantIndex);

/// <summary>
/// A validated conversation, shaped the way every template writes it: an optional system prompt, then rounds.
/// A prompt for generation ends with an open round (a user message awaiting its answer); a conversation
/// rendered for training ends with a finished round (the last message is the assistant's).
/// </summary>
internal sealed class ChatConversation
{
    /// <summary>Content of the first System message, or null when the caller gave none.</summary>
    public string? System { get; }

    /// <summary>Index of the System message in the caller's list, or -1.</summary>
    public int SystemIndex { get; }

    public IReadOnlyList<ChatRound> Rounds { get; }

    /// <summary>True when the last round waits for the assistant's answer (the generation prompt follows it).</summary>
    public bool IsOpen => Rounds[^1].Assistant is null;

    ChatConversation(string? system, int systemIndex, IReadOnlyList<ChatRound> rounds)
    {
        System = system;
        SystemIndex = systemIndex;
        Rounds = rounds;
    }

    /// <summary>
    /// Accepts [System?] User (Assistant User)*: the shape FastChat's Conversation.get_prompt assumes
    /// (roles alternate by index, the last slot is the open assistant turn) and that the HF Jinja
    /// templates enforce with raise_exception('Conversation roles must alternate ...').
    /// </summary>
    public static ChatConversation Parse(IReadOnlyList<ChatMessage> messages, string templateName) =>
        Parse(messages, templateName, finished: false);

    /// <summary>
    /// Accepts [System?] (User Assistant)+: a conversation to learn from, which ends with the reply to learn.
    /// </summary>
    public static ChatConversation ParseFinished(IReadOnlyList<ChatMessage> messages, string templateName) =>
        Parse(messages, templateName, finished: true);

    static ChatConversation Parse(IReadOnlyList<ChatMessage> messages, string templateName, bool finished)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
            throw new ArgumentException(
                finished
                    ? $"The {templateName} chat template needs at least one User message and its Assistant reply to train on; the conversation is empty."
                    : $"The {templateName} chat template needs at least one User message to answer; the conversation is empty.",
                nameof(messages));

        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentException($"Message {i} is null.", nameof(messages));
            if (message.Content is null)
                throw new ArgumentException($"Message {i} ({message.Role}) has null content; use \"\" for an empty message.", nameof(messages));
            if (!Enum.IsDefined(message.Role))
                throw new ArgumentException($"Message {i} has unknown role value {(int)message.Role}.", nameof(messages));
        }

        var start = 0;
        string? system = null;
        if (messages[0].Role == ChatRole.System)
        {
            system = messages[0].Content;
            start = 1;
        }

        var rounds = new List<ChatRound>();
        int pendingUser = -1;
        for (var i = start; i < messages.Count; i++)
        {
            var expected = (i - start) % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            var message = messages[i];
            if (message.Role != expected)
                throw new ArgumentException(
                    $"Message {i} has role {message.Role} where {expected} was expected. " +
                    "A conversation is an optional first System message, then User and Assistant messages " +
                    (finished
                        ? "alternating, starting with User and ending with Assistant (the reply to learn)"
                        : "alternating, starting and ending with User (the turn the model answers)") +
                    (message.Role == ChatRole.System ? "; only the first message may be System." : "."),
                    nameof(messages));

            if (expected == ChatRole.User)
                pendingUser = i;
            else
            {
                rounds.Add(new ChatRound(messages[pendingUser].Content, pendingUser, message.Content, i));
                pendingUser = -1;
            }
        }

        if (finished)
        {
            if (pendingUser >= 0)
                throw new ArgumentException(
                    "The conversation ends with a User message; a conversation to train on must end with the Assistant reply.",
                    nameof(messages));
            if (rounds.Count == 0)
                throw new ArgumentException(
                    "The conversation has only a System message; add a User message and the Assistant reply to train on.",
                    nameof(messages));
        }
        else
        {
            if (pendingUser < 0)
                throw new ArgumentException(
                    messages.Count == start
                        ? "The conversation has only a System message; add the User message the model should answer."
                        : "The conversation ends with an Assistant message; it must end with the User message the model should answer.",
                    nameof(messages));
            rounds.Add(new ChatRound(messages[pendingUser].Content, pendingUser, null, -1));
        }

        return new ChatConversation(system, start == 1 ? 0 : -1, rounds);
    }
}
