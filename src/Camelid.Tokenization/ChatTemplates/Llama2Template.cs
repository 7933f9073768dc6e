namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// Llama-2-chat, as FastChat's "llama-2" template (SeparatorStyle.LLAMA2 in Conversation.get_prompt:
/// system_template "[INST] &lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n", roles "[INST]"/"[/INST]",
/// sep " ", sep2 " &lt;/s&gt;&lt;s&gt;", no default system message):
///
///   "[INST] &lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n{u1} [/INST] {a1} &lt;/s&gt;&lt;s&gt;[INST] {u2} [/INST]"
///   without a system message the first round starts "[INST] {u1} [/INST]".
///
/// This is the token sequence of Meta's chat_completion (llama/generation.py): each finished round
/// is encoded as "[INST] {u} [/INST] {a} " with BOS and EOS, the open round as "[INST] {u} [/INST]"
/// with BOS only. The leading BOS is not rendered (the caller adds it, as FastChat's tokenizer
/// does); the "&lt;/s&gt;&lt;s&gt;" between rounds is control text. Meta's code and the HF Jinja template also
/// strip() each message; FastChat does not, and neither do we.
/// </summary>
internal sealed class Llama2Template : ChatTemplate
{
    const string Bos = "<s>";
    const string Eos = "</s>";
    const string BeginInstruction = "[INST]";
    const string EndInstruction = "[/INST]";

    public override string Name => "llama-2";
    public override string? DefaultSystemPrompt => null;
    public override IReadOnlyList<string> StopStrings { get; } = [Eos, BeginInstruction];
    public override bool RendersBos => false;
    public override IReadOnlyList<string> SpecialTokenTexts { get; } = [Bos, Eos];

    private protected override void Write(ChatConversation conversation, PromptBuilder prompt)
    {
        // FastChat tests `if self.system_message:`, so an empty system message means no <<SYS>> block.
        var system = conversation.System ?? DefaultSystemPrompt;
        var firstRound = true;
        foreach (var round in conversation.Rounds)
        {
            // Meta encodes each round as BOS + "[INST] {u} [/INST] {a} " + EOS: the model writes " {a} " and EOS; the
            // BOS that opens the next round belongs to that round (the first one's is the caller's).
            if (firstRound && !string.IsNullOrEmpty(system))
                prompt.Turn(conversation.SystemIndex).Text(BeginInstruction + " <<SYS>>\n" + system + "\n<</SYS>>\n\n");
            else if (firstRound)
                prompt.Turn(round.UserIndex).Text(BeginInstruction + " ");
            else
                prompt.Turn(round.UserIndex).Special(Bos).Text(BeginInstruction + " ");
            firstRound = false;

            prompt.Turn(round.UserIndex).Text(round.User + " " + EndInstruction);
            if (round.Assistant is not null)
                prompt.Turn(round.AssistantIndex).Reply().Text(" " + round.Assistant + " ").Special(Eos).EndReply();
        }
    }
}
