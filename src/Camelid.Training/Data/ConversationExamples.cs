using Camelid.Data.Formats;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Training.Data;

/// <summary>
/// ShareGPT and messages conversations as training examples of a chat template. The roles FastChat accepts
/// (human/user, gpt/assistant/chatgpt/bard/bing/model, system: <see cref="ShareGptRoles"/>) map to the template's;
/// OpenAI messages arrive here already converted to ShareGPT turns (user → human, assistant → gpt).
///
/// Accepted shape: an optional first system turn, then user and assistant turns alternating, starting with the user.
/// A final user turn has no answer to learn from and is dropped (as FastChat's preprocessing does), and counted.
/// Everything else (no turns, an unknown role, a system turn later on, two turns of one role in a row, a conversation
/// starting with the assistant, no assistant reply at all) is an invalid example.
/// </summary>
internal static class ConversationExamples
{
    public const string Empty = "empty conversation";
    public const string SystemNotFirst = "system turn after the first turn";
    public const string NotAlternating = "roles do not alternate user/assistant starting with user";
    public const string NoReply = "no assistant reply";

    public static string UnknownRole(string from) => $"unknown role '{from}'";

    /// <summary>The messages to render, or null and the <paramref name="problem"/>.</summary>
    public static List<ChatMessage>? ToMessages(ShareGptConversation conversation, string? qualityTag,
                                                out string? problem, out bool trailingUserDropped)
    {
        problem = null;
        trailingUserDropped = false;
        var turns = conversation.Turns;
        if (turns.Count == 0)
        {
            problem = Empty;
            return null;
        }

        var messages = new List<ChatMessage>(turns.Count);
        for (int i = 0; i < turns.Count; i++)
        {
            var role = turns[i].Role switch
            {
                ShareGptRoles.Human => ChatRole.User,
                ShareGptRoles.Gpt => ChatRole.Assistant,
                ShareGptRoles.System => ChatRole.System,
                _ => (ChatRole?)null,
            };
            if (role is not { } known)
            {
                problem = UnknownRole(turns[i].From);
                return null;
            }
            if (known == ChatRole.System && i > 0)
            {
                problem = SystemNotFirst;
                return null;
            }
            int first = messages.Count > 0 && messages[0].Role == ChatRole.System ? 1 : 0;
            var expected = (messages.Count - first) % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            if (known != ChatRole.System && known != expected)
            {
                problem = NotAlternating;
                return null;
            }
            string content = qualityTag != null && known == ChatRole.User ? qualityTag + " " + turns[i].Value : turns[i].Value;
            messages.Add(new ChatMessage(known, content));
        }

        if (messages[^1].Role == ChatRole.User)
        {
            messages.RemoveAt(messages.Count - 1);
            trailingUserDropped = true;
        }
        if (!messages.Any(m => m.Role == ChatRole.Assistant))
        {
            problem = NoReply;
            return null;
        }
        return messages;
    }

    /// <summary>
    /// BOS (unless the template writes it) + the rendered conversation, encoded piece by piece; a token is trained when
    /// its piece is (<see cref="TrainingSegment.IsTrained"/>: assistant content and the end-of-turn marker after it).
    /// Adjacent untrained plain pieces are encoded as one text, so the prompt part gets the tokens the inference
    /// prompt gets.
    /// </summary>
    public static (int[] Tokens, bool[] Trained) Encode(SpanTokenizer spans, ChatTemplate template, IReadOnlyList<ChatMessage> messages)
    {
        var example = new ExampleBuilder(spans);
        if (!template.RendersBos && spans.AddsBos)
            example.Token(spans.Tokenizer.BosId, trained: false);
        var segments = template.RenderForTraining(messages);
        for (int i = 0; i < segments.Count;)
        {
            var segment = segments[i];
            if (segment.IsSpecial)
            {
                example.Special(segment.Text, segment.IsTrained);
                i++;
                continue;
            }
            int end = i + 1;
            while (end < segments.Count && !segments[end].IsSpecial && segments[end].IsTrained == segment.IsTrained)
                end++;
            string text = end == i + 1 ? segment.Text : string.Concat(Enumerable.Range(i, end - i).Select(k => segments[k].Text));
            example.Text(text, segment.IsTrained);
            i = end;
        }
        return example.Build();
    }
}
