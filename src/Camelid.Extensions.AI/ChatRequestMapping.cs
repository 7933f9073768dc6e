using System.Text;
using Camelid.Inference.Sampling;
using Microsoft.Extensions.AI;
using ChatMessageList = Camelid.Tokenization.ChatTemplates.ChatMessageList;
using TemplateMessage = Camelid.Tokenization.ChatTemplates.ChatMessage;
using TemplateRole = Camelid.Tokenization.ChatTemplates.ChatRole;

namespace Camelid.Extensions.AI;

/// <summary>Microsoft.Extensions.AI messages and options in the engine's terms, as the server maps OpenAI requests.</summary>
static class ChatRequestMapping
{
    /// <summary>
    /// The conversation as chat template messages: "developer" is a system message, <see cref="ChatOptions.Instructions"/>
    /// come first as system text, and consecutive messages of one role are merged, since chat templates alternate user and assistant.
    /// </summary>
    public static List<TemplateMessage> ToTemplateMessages(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var result = new List<TemplateMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions))
            ChatMessageList.AddMerged(result, TemplateRole.System, options.Instructions);
        int index = 0;
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            ChatMessageList.AddMerged(result, RoleOf(message, index), TextOf(message, index));
            index++;
        }
        return result;
    }

    static TemplateRole RoleOf(ChatMessage message, int index)
    {
        var role = message.Role;
        if (role == ChatRole.System || string.Equals(role.Value, "developer", StringComparison.OrdinalIgnoreCase))
            return TemplateRole.System;
        if (role == ChatRole.User)
            return TemplateRole.User;
        if (role == ChatRole.Assistant)
            return TemplateRole.Assistant;
        throw new NotSupportedException(
            $"message {index} has the role '{role.Value}'; Camelid's chat client takes system, user and assistant messages only (it does not call tools)");
    }

    /// <summary>The message's text parts joined as <see cref="ChatMessage.Text"/> joins them.</summary>
    static string TextOf(ChatMessage message, int index)
    {
        var text = new StringBuilder();
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent part:
                    text.Append(part.Text);
                    break;
                case UsageContent:
                    // Token counts of an earlier answer that was added back to the history: bookkeeping, not conversation.
                    break;
                default:
                    throw new NotSupportedException(
                        $"message {index} ({message.Role.Value}) contains {content.GetType().Name}; Camelid's chat client reads text only (TextContent)");
            }
        }
        return text.ToString();
    }

    /// <summary>The sampling rule for one call: the options' values where set, llama.cpp's defaults elsewhere (as the server does).</summary>
    public static SamplingOptions ToSampling(ChatOptions? options)
    {
        var defaults = new SamplingOptions();
        if (options == null)
            return defaults;
        var sampling = defaults with
        {
            Temperature = options.Temperature ?? defaults.Temperature,
            TopP = options.TopP ?? defaults.TopP,
            TopK = options.TopK ?? defaults.TopK,
            PresencePenalty = options.PresencePenalty ?? defaults.PresencePenalty,
            FrequencyPenalty = options.FrequencyPenalty ?? defaults.FrequencyPenalty,
            // The engine's seed is 32-bit; folding keeps every bit of a 64-bit seed significant, as the server does.
            Seed = options.Seed is long seed ? (int)(seed ^ (seed >> 32)) : null,
        };
        sampling.Validate();
        return sampling;
    }

    /// <summary>Rejects what the engine cannot honour instead of silently answering something else.</summary>
    public static void RejectUnsupported(ChatOptions? options)
    {
        if (options == null)
            return;
        if (options.Tools is { Count: > 0 } && options.ToolMode is not NoneChatToolMode)
            throw new NotSupportedException("Camelid's chat client does not call tools; remove ChatOptions.Tools or set ToolMode to None");
        if (options.ResponseFormat is ChatResponseFormatJson)
            throw new NotSupportedException("Camelid's chat client cannot constrain the answer to JSON; use ChatResponseFormat.Text");
    }
}
