using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>The three record shapes <c>camelid data</c> reads and writes.</summary>
public enum DataFormat
{
    /// <summary>{"instruction", "input", "output"}: one exchange.</summary>
    Alpaca,

    /// <summary>{"id", "conversations": [{"from", "value"}]}: FastChat / Vicuna training data.</summary>
    ShareGpt,

    /// <summary>{"messages": [{"role", "content"}]}: OpenAI chat fine-tuning data.</summary>
    Messages,
}

/// <summary>What converting a multi-turn conversation to Alpaca does (Alpaca has room for one exchange).</summary>
public enum MultiTurnToAlpaca
{
    /// <summary>Keep the first exchange (question and answer), like FastChat's extract_single_round.py.</summary>
    First,

    /// <summary>Drop conversations with more than one exchange.</summary>
    Drop,
}

/// <summary>
/// Record-by-record conversions. Everything goes through ShareGPT turns:
/// <list type="bullet">
/// <item>Alpaca → ShareGPT as FastChat's convert_alpaca.py: human = instruction, or instruction + "\nInput:\n" + input
///   when there is an input; gpt = output; id "alpaca_{index}". ShareGPT → Alpaca splits a human turn at the first
///   "\nInput:\n" again, so Alpaca → ShareGPT → Alpaca gives back the same records (an input of only blanks is lost).</item>
/// <item>Messages ⇄ ShareGPT: user ⇄ human, assistant ⇄ gpt, system ⇄ system; ids "messages_{index}". Other roles
///   (tool, function) drop the record when written to another format.</item>
/// <item>To Alpaca: one exchange; longer conversations per <see cref="MultiTurnToAlpaca"/>; a system turn is dropped
///   (Alpaca's prompt has its own fixed preamble) and counted.</item>
/// </list>
/// </summary>
public static class FormatConversion
{
    public const string AlpacaInputMarker = "\nInput:\n";
    public const string UnknownRole = "role other than system/user/assistant";
    public const string NotOneExchange = "not a single question and answer";
    public const string MultiTurnDropped = "more than one exchange";

    public static ShareGptConversation FromAlpaca(AlpacaRecord record, string id) => new(id,
    [
        new ShareGptTurn(ShareGptRoles.Human, record.Input.Trim().Length > 0 ? record.Instruction + AlpacaInputMarker + record.Input : record.Instruction),
        new ShareGptTurn(ShareGptRoles.Gpt, record.Output),
    ]);

    /// <summary>ShareGPT turns with FastChat role names; a role ShareGPT has no name for (tool, function) is kept as
    /// written, so that whatever consumes the turns can drop the record with a reason.</summary>
    public static ShareGptConversation FromMessages(OpenAiMessagesRecord record, string id) => new(id,
        record.Messages.Select(m => new ShareGptTurn(m.Role.ToLowerInvariant() switch
        {
            OpenAiMessage.User => ShareGptRoles.Human,
            OpenAiMessage.Assistant => ShareGptRoles.Gpt,
            OpenAiMessage.System or "developer" => ShareGptRoles.System,
            _ => m.Role,
        }, m.Content)).ToList());

    /// <summary>Roles renamed to human/gpt/system; null when a role is unknown.</summary>
    public static ShareGptConversation? Normalize(ShareGptConversation conversation)
    {
        var turns = new List<ShareGptTurn>(conversation.Turns.Count);
        foreach (var turn in conversation.Turns)
        {
            if (turn.Role is not { } role)
                return null;
            turns.Add(turn with { From = role });
        }
        return conversation with { Turns = turns };
    }

    public static OpenAiMessagesRecord? ToMessages(ShareGptConversation conversation)
    {
        var messages = new List<OpenAiMessage>(conversation.Turns.Count);
        foreach (var turn in conversation.Turns)
        {
            string? role = turn.Role switch
            {
                ShareGptRoles.Human => OpenAiMessage.User,
                ShareGptRoles.Gpt => OpenAiMessage.Assistant,
                ShareGptRoles.System => OpenAiMessage.System,
                _ => null,
            };
            if (role == null)
                return null;
            messages.Add(new OpenAiMessage(role, turn.Value));
        }
        return new OpenAiMessagesRecord(messages);
    }

    /// <summary>The Alpaca record, or the reason there is none. <paramref name="systemDropped"/> tells that a system turn was left out.</summary>
    public static AlpacaRecord? ToAlpaca(ShareGptConversation conversation, MultiTurnToAlpaca multiTurn, out string? dropReason, out bool systemDropped)
    {
        var turns = conversation.Turns.Where(t => t.Role != ShareGptRoles.System).ToList();
        systemDropped = turns.Count < conversation.Turns.Count;
        dropReason = null;
        if (turns.Any(t => t.Role == null))
            dropReason = UnknownRole;
        else if (turns.Count < 2 || turns[0].Role != ShareGptRoles.Human || turns[1].Role != ShareGptRoles.Gpt)
            dropReason = NotOneExchange;
        else if (turns.Count > 2 && multiTurn == MultiTurnToAlpaca.Drop)
            dropReason = MultiTurnDropped;
        if (dropReason != null)
            return null;
        string question = turns[0].Value;
        int marker = question.IndexOf(AlpacaInputMarker, StringComparison.Ordinal);
        return marker < 0
            ? new AlpacaRecord(question, "", turns[1].Value)
            : new AlpacaRecord(question[..marker], question[(marker + AlpacaInputMarker.Length)..], turns[1].Value);
    }
}
