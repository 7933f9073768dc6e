namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// FastChat's SeparatorStyle.ADD_COLON_TWO (lm-sys/FastChat fastchat/conversation.py,
/// Conversation.get_prompt): system + sep, then "ROLE: message" followed by sep after a user
/// message and sep2 after an assistant message, and finally "ASSISTANT_ROLE:" with no space, left
/// open for the reply. sep2 is "&lt;/s&gt;" for all three registered users of the style here
/// (vicuna_v1.1, koala_v1, alpaca), i.e. the EOS text the model emitted to end each reply.
///
///   vicuna: "{system} USER: {u1} ASSISTANT: {a1}&lt;/s&gt;USER: {u2} ASSISTANT:"
///   koala:  "BEGINNING OF CONVERSATION: USER: {u1} GPT: {a1}&lt;/s&gt;USER: {u2} GPT:"
///   alpaca: "{system}\n\n### Instruction: {u1}\n\n### Response: {a1}&lt;/s&gt;### Instruction: {u2}\n\n### Response:"
///
/// Alpaca: FastChat's "alpaca" writes "### Instruction: {u}" (colon, space). Stanford Alpaca's own
/// training prompt (tatsu-lab/stanford_alpaca train.py, PROMPT_DICT["prompt_no_input"]) is
/// "{system}\n\n### Instruction:\n{u}\n\n### Response:" (colon, newline) and has no multi-turn form.
/// The two differ only in that one character after "### Instruction:"; we follow FastChat.
///
/// FastChat treats an empty message as the open slot ("ROLE:"); here an empty message is just an
/// empty message, and only the final assistant turn is left open.
/// </summary>
internal sealed class ColonTwoTemplate : ChatTemplate
{
    const string EndOfTurn = "</s>"; // sep2 of all three templates

    readonly string userRole;
    readonly string assistantRole;
    readonly string separator;

    ColonTwoTemplate(string name, string? defaultSystemPrompt, string userRole, string assistantRole, string separator)
    {
        Name = name;
        DefaultSystemPrompt = defaultSystemPrompt;
        this.userRole = userRole;
        this.assistantRole = assistantRole;
        this.separator = separator;
        // A model that misses EOS tends to write the next user header itself.
        StopStrings = [EndOfTurn, userRole + ":"];
    }

    /// <summary>FastChat "vicuna_v1.1".</summary>
    public static ColonTwoTemplate Vicuna { get; } = new(
        "vicuna",
        "A chat between a curious user and an artificial intelligence assistant. " +
        "The assistant gives helpful, detailed, and polite answers to the user's questions.",
        "USER", "ASSISTANT", " ");

    /// <summary>FastChat "koala_v1".</summary>
    public static ColonTwoTemplate Koala { get; } = new(
        "koala", "BEGINNING OF CONVERSATION:", "USER", "GPT", " ");

    /// <summary>FastChat "alpaca".</summary>
    public static ColonTwoTemplate Alpaca { get; } = new(
        "alpaca",
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
        "### Instruction", "### Response", "\n\n");

    public override string Name { get; }
    public override string? DefaultSystemPrompt { get; }
    public override IReadOnlyList<string> StopStrings { get; }
    public override bool RendersBos => false;
    public override IReadOnlyList<string> SpecialTokenTexts { get; } = [EndOfTurn];

    private protected override void Write(ChatConversation conversation, PromptBuilder prompt)
    {
        // FastChat writes system + sep even when the system message is empty.
        prompt.Turn(conversation.SystemIndex).Text((conversation.System ?? DefaultSystemPrompt ?? "") + separator);
        foreach (var round in conversation.Rounds)
        {
            prompt.Turn(round.UserIndex).Text(userRole + ": " + round.User + separator);
            if (round.Assistant is null)
                prompt.Turn(-1).Text(assistantRole + ":");
            else
                // The space after the colon goes with the reply: generation starts right after "ASSISTANT:", and
                // a SentencePiece or byte-level BPE vocabulary writes that space as part of the reply's first token.
                prompt.Turn(round.AssistantIndex).Text(assistantRole + ":")
                      .Reply().Text(" " + round.Assistant).Special(EndOfTurn).EndReply();
        }
    }
}
