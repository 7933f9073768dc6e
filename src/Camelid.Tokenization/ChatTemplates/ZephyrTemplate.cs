namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// Zephyr, also TinyLlama-1.1B-Chat-v1.0's format: FastChat's "zephyr" / "TinyLlama" templates
/// (SeparatorStyle.CHATML, system_template "&lt;|system|&gt;\n{system}", roles "&lt;|user|&gt;"/"&lt;|assistant|&gt;",
/// sep "&lt;/s&gt;") and the models' Jinja template ('&lt;|user|&gt;\n' + content + eos_token, then a newline,
/// and '&lt;|assistant|&gt;' + newline as the generation prompt):
///
///   "&lt;|system|&gt;\n{system}&lt;/s&gt;\n&lt;|user|&gt;\n{u1}&lt;/s&gt;\n&lt;|assistant|&gt;\n{a1}&lt;/s&gt;\n&lt;|user|&gt;\n{u2}&lt;/s&gt;\n&lt;|assistant|&gt;\n"
///
/// Without a System message FastChat still writes "&lt;|system|&gt;\n&lt;/s&gt;\n" (its system prompt
/// "&lt;|system|&gt;\n" is never empty), while the Jinja template writes nothing. We follow FastChat
/// because that is what these models were trained on: the HF alignment-handbook recipe used for
/// Zephyr and TinyLlama-Chat inserts an empty system message before applying the template
/// (maybe_insert_system_message in src/alignment/data.py).
///
/// "&lt;|user|&gt;" etc. are ordinary text in these vocabularies; only "&lt;/s&gt;" is a control token.
/// </summary>
internal sealed class ZephyrTemplate : ChatTemplate
{
    const string Eos = "</s>";

    public override string Name => "zephyr";
    public override string? DefaultSystemPrompt => null;
    public override IReadOnlyList<string> StopStrings { get; } = [Eos, "<|user|>"];
    public override bool RendersBos => false;
    public override IReadOnlyList<string> SpecialTokenTexts { get; } = [Eos];

    private protected override void Write(ChatConversation conversation, PromptBuilder prompt)
    {
        WriteMessage(prompt.Turn(conversation.SystemIndex), "<|system|>", conversation.System ?? DefaultSystemPrompt ?? "");
        foreach (var round in conversation.Rounds)
        {
            WriteMessage(prompt.Turn(round.UserIndex), "<|user|>", round.User);
            if (round.Assistant is not null)
                // As in ChatML, the newline after </s> only separates messages.
                prompt.Turn(round.AssistantIndex).Text("<|assistant|>\n")
                      .Reply().Text(round.Assistant).Special(Eos).EndReply().Text("\n");
        }
        if (conversation.IsOpen)
            prompt.Turn(-1).Text("<|assistant|>\n");
    }

    static void WriteMessage(PromptBuilder prompt, string roleTag, string content) =>
        prompt.Text(roleTag + "\n" + content).Special(Eos).Text("\n");
}
