namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// ChatML, as the common HF Jinja template writes it (e.g. OpenHermes-2.5's tokenizer_config.json:
/// '&lt;|im_start|&gt;' + role + '\n' + content + '&lt;|im_end|&gt;' + '\n' per message, then
/// '&lt;|im_start|&gt;assistant\n' for the generation prompt):
///
///   "&lt;|im_start|&gt;system\n{system}&lt;|im_end|&gt;\n&lt;|im_start|&gt;user\n{u1}&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n"
///
/// FastChat has no template named chatml; its ChatML models (mistral-7b-openorca, orca-2,
/// qwen-7b-chat, Yi-34b-chat, ...) share SeparatorStyle.CHATML, which writes the same text.
/// Those with a system_template write the system block even for an empty system message; the
/// generic Jinja template (and Yi-34b-chat in FastChat) write it only when a System message is
/// given, which is what we do: there is no model-independent default system prompt for ChatML.
/// </summary>
internal sealed class ChatMlTemplate : ChatTemplate
{
    const string ImStart = "<|im_start|>";
    const string ImEnd = "<|im_end|>";

    public override string Name => "chatml";
    public override string? DefaultSystemPrompt => null;
    public override IReadOnlyList<string> StopStrings { get; } = [ImEnd, ImStart];
    public override bool RendersBos => false;
    public override IReadOnlyList<string> SpecialTokenTexts { get; } = [ImStart, ImEnd];

    private protected override void Write(ChatConversation conversation, PromptBuilder prompt)
    {
        var system = conversation.System ?? DefaultSystemPrompt;
        if (system is not null)
            WriteMessage(prompt.Turn(conversation.SystemIndex), "system", system);
        foreach (var round in conversation.Rounds)
        {
            WriteMessage(prompt.Turn(round.UserIndex), "user", round.User);
            if (round.Assistant is not null)
            {
                // The newline after <|im_end|> only separates messages; generation stops at <|im_end|>.
                prompt.Turn(round.AssistantIndex).Special(ImStart).Text("assistant\n")
                      .Reply().Text(round.Assistant).Special(ImEnd).EndReply().Text("\n");
            }
        }
        if (conversation.IsOpen)
            prompt.Turn(-1).Special(ImStart).Text("assistant\n");
    }

    static void WriteMessage(PromptBuilder prompt, string role, string content) =>
        prompt.Special(ImStart).Text(role + "\n" + content).Special(ImEnd).Text("\n");
}
