namespace Camelid.Tokenization.ChatTemplates;

/// <summary>A finished round: what the user said and what the assistant answered.</summary>
internal readonly record struct ChatExchange(string User, string Assistant);

/// <summary>
/// A validated conversation, shaped the way every template writes it: an optional system prompt,
/// the finished rounds, then the user message the model is about to answer.
/// </summary>
internal sealed class ChatConversation
{
    /// <summary>Content of the first System message, or null when the caller gave none.</summary>
    public string? System { get; }
    public IReadOnlyList<ChatExchange> History { get; }
    public string PendingUser { get; }

    ChatConversation(string? system, IReadOnlyList<ChatExchange> history, string pendingUser)
    {
        System = system;
        History = history;
        PendingUser = pendingUser;
    }

    /// <summary>Users in order, each followed by its answer except the last one.</summary>
    public IEnumerable<(string User, string? Assistant)> Rounds()
    {
        foreach (var exchange in History)
            yield return (exchange.User, exchange.Assistant);
        yield return (PendingUser, null);
    }

    /// <summary>
    /// Accepts [System?] User (Assistant User)*: the shape FastChat's Conversation.get_prompt assumes
    /// (roles alternate by index, the last slot is the open assistant turn) and that the HF Jinja
    /// templates enforce with raise_exception('Conversation roles must alternate ...').
    /// </summary>
    public static ChatConversation Parse(IReadOnlyList<ChatMessage> messages, string templateName)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
            throw new ArgumentException(
                $"The {templateName} chat template needs at least one User message to answer; the conversation is empty.",
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

        var history = new List<ChatExchange>();
        string? pendingUser = null;
        for (var i = start; i < messages.Count; i++)
        {
            var expected = (i - start) % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            var message = messages[i];
            if (message.Role != expected)
                throw new ArgumentException(
                    $"Message {i} has role {message.Role} where {expected} was expected. " +
                    "A conversation is an optional first System message, then User and Assistant messages " +
                    "alternating, starting and ending with User (the turn the model answers)" +
                    (message.Role == ChatRole.System ? "; only the first message may be System." : "."),
                    nameof(messages));

            if (expected == ChatRole.User)
                pendingUser = message.Content;
            else
            {
                history.Add(new ChatExchange(pendingUser!, message.Content));
                pendingUser = null;
            }
        }

        if (pendingUser is null)
            throw new ArgumentException(
                messages.Count == start
                    ? "The conversation has only a System message; add the User message the model should answer."
                    : "The conversation ends with an Assistant message; it must end with the User message the model should answer.",
                nameof(messages));

        return new ChatConversation(system, history, pendingUser);
    }
}
