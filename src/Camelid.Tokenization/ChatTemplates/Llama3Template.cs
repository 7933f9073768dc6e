namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// Llama-3-Instruct: Meta's chat template (tokenizer_config.json of Meta-Llama-3-8B-Instruct) and
/// FastChat's "llama-3" (SeparatorStyle.LLAMA3):
///
///   "&lt;|begin_of_text|&gt;&lt;|start_header_id|&gt;system&lt;|end_header_id|&gt;\n\n{system}&lt;|eot_id|&gt;"
///   "&lt;|start_header_id|&gt;user&lt;|end_header_id|&gt;\n\n{u1}&lt;|eot_id|&gt;"
///   "&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n{a1}&lt;|eot_id|&gt;" ... then the open
///   "&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n".
///
/// Every message is trimmed (Meta: `message['content'] | trim`; FastChat: `message.strip()`). The
/// system message is trimmed too, as in Meta's template (FastChat does not trim it). A missing or
/// blank system message writes no system block (FastChat's `if self.system_message:`; Meta's
/// template would write an empty one for an explicit "").
/// The prompt starts with BOS text, so <see cref="RendersBos"/> is true.
/// </summary>
internal sealed class Llama3Template : ChatTemplate
{
    const string BeginOfText = "<|begin_of_text|>";
    const string EndOfText = "<|end_of_text|>";
    const string StartHeader = "<|start_header_id|>";
    const string EndHeader = "<|end_header_id|>";
    const string EndOfTurn = "<|eot_id|>";

    public override string Name => "llama-3";
    public override string? DefaultSystemPrompt => null;
    // FastChat's stop_token_ids [128001, 128009] are <|end_of_text|> and <|eot_id|>.
    public override IReadOnlyList<string> StopStrings { get; } = [EndOfTurn, EndOfText];
    public override bool RendersBos => true;
    public override IReadOnlyList<string> SpecialTokenTexts { get; } = [BeginOfText, StartHeader, EndHeader, EndOfTurn];

    private protected override void Write(ChatConversation conversation, PromptBuilder prompt)
    {
        prompt.Turn(-1).Special(BeginOfText);
        var system = (conversation.System ?? DefaultSystemPrompt)?.Trim();
        if (!string.IsNullOrEmpty(system))
            WriteMessage(prompt.Turn(conversation.SystemIndex), "system", system);
        foreach (var round in conversation.Rounds)
        {
            WriteMessage(prompt.Turn(round.UserIndex), "user", round.User.Trim());
            if (round.Assistant is not null)
            {
                WriteHeader(prompt.Turn(round.AssistantIndex), "assistant");
                prompt.Reply().Text(round.Assistant.Trim()).Special(EndOfTurn).EndReply();
            }
        }
        if (conversation.IsOpen)
            WriteHeader(prompt.Turn(-1), "assistant");
    }

    static void WriteMessage(PromptBuilder prompt, string role, string content)
    {
        WriteHeader(prompt, role);
        prompt.Text(content).Special(EndOfTurn);
    }

    static void WriteHeader(PromptBuilder prompt, string role) =>
        prompt.Special(StartHeader).Text(role).Special(EndHeader).Text("\n\n");
}
