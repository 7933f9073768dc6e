namespace Camelid.Tokenization.ChatTemplates;

/// <summary>
/// A chat prompt format: turns a conversation into the text the model was fine-tuned on, ending
/// where the assistant's next reply starts so that generation continues it.
///
/// Tokenizing the result: the formats embed control-token text ("&lt;/s&gt;" after each assistant
/// turn in vicuna, "&lt;|eot_id|&gt;" in llama-3, ...). FastChat and HF apply_chat_template build the
/// prompt as one string and let the HF tokenizer turn that text into the control token's id
/// (e.g. "&lt;/s&gt;" -> EOS id 2) because it is a registered special token; llama.cpp does the same
/// only with parse_special = true, otherwise "&lt;/s&gt;" becomes the pieces "&lt;/", "s", "&gt;". Callers
/// should encode <see cref="RenderSegments"/> piece by piece: special pieces as the token id,
/// the rest as plain text (that also keeps control text typed by a user from acting as control).
/// </summary>
public abstract class ChatTemplate
{
    /// <summary>"alpaca", "vicuna", "koala", "llama-2", "llama-3", "chatml" or "zephyr".</summary>
    public abstract string Name { get; }

    /// <summary>FastChat's system message for this template; null when it has none.</summary>
    public abstract string? DefaultSystemPrompt { get; }

    /// <summary>Text that ends an assistant reply in this format, besides the EOS token; used as stop strings.</summary>
    public abstract IReadOnlyList<string> StopStrings { get; }

    /// <summary>True when the rendered prompt already starts with the BOS token text, so the caller must not add BOS.</summary>
    public abstract bool RendersBos { get; }

    /// <summary>The control-token texts this format writes (each appears in <see cref="RenderSegments"/> as a special piece).</summary>
    public abstract IReadOnlyList<string> SpecialTokenTexts { get; }

    /// <summary>
    /// True when this format writes control-token text that must be parsed as special tokens (all
    /// built-in formats do, e.g. vicuna's "&lt;/s&gt;" after each finished assistant turn).
    /// </summary>
    public virtual bool HasSpecialTokenText => SpecialTokenTexts.Count > 0;

    /// <summary>
    /// The prompt for the conversation so far. The first message may be System (it replaces
    /// <see cref="DefaultSystemPrompt"/>); then User and Assistant alternate, ending with User.
    /// </summary>
    /// <exception cref="ArgumentException">The messages are not in that shape.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages) =>
        string.Concat(RenderSegments(messages).Select(segment => segment.Text));

    /// <summary>The same prompt as <see cref="Render"/>, split into plain text and control-token pieces.</summary>
    /// <exception cref="ArgumentException">The messages are not in the accepted shape.</exception>
    public IReadOnlyList<PromptSegment> RenderSegments(IReadOnlyList<ChatMessage> messages)
    {
        var conversation = ChatConversation.Parse(messages, Name);
        var prompt = new PromptBuilder();
        Write(conversation, prompt);
        return prompt.Build();
    }

    /// <summary>
    /// A finished conversation, [System?] (User Assistant)+, as the model is fine-tuned on it: the same text as the
    /// prompt for its history followed by each reply, split into pieces tagged with the message they belong to and
    /// whether they are trained (see <see cref="TrainingSegment"/>). No generation prompt is written after the last
    /// reply. A trained piece never shares a plain-text piece with untrained text, so the caller can encode the pieces
    /// one by one and know exactly which tokens carry the loss.
    /// </summary>
    /// <exception cref="ArgumentException">The messages are not in that shape (e.g. the last one is not the Assistant's).</exception>
    public IReadOnlyList<TrainingSegment> RenderForTraining(IReadOnlyList<ChatMessage> messages)
    {
        var conversation = ChatConversation.ParseFinished(messages, Name);
        var prompt = new PromptBuilder();
        Write(conversation, prompt);
        return prompt.BuildTraining();
    }

    /// <summary>
    /// The prompt as token ids. Control-token text placed by the template (e.g. "&lt;/s&gt;", "&lt;|eot_id|&gt;")
    /// becomes its token id; the same text typed by a user stays plain text. Each plain segment is encoded on
    /// its own, which is how llama.cpp treats text after a special token.
    /// </summary>
    public int[] Encode(Tokenizer tokenizer, IReadOnlyList<ChatMessage> messages)
    {
        var ids = new List<int>();
        if (!RendersBos && tokenizer.AddBosByDefault)
            ids.Add(tokenizer.BosId);
        foreach (var segment in RenderSegments(messages))
            ids.AddRange(tokenizer.Encode(segment.Text, addBos: false, parseSpecial: segment.IsSpecial));
        return ids.ToArray();
    }

    /// <summary>
    /// Writes the conversation. Each message's turn starts with <see cref="PromptBuilder.Turn"/>; an assistant reply's
    /// content and its end-of-turn marker sit between <see cref="PromptBuilder.Reply"/> and <see cref="PromptBuilder.EndReply"/>.
    /// An open conversation ends with the generation prompt, a finished one with the last reply's turn.
    /// </summary>
    private protected abstract void Write(ChatConversation conversation, PromptBuilder prompt);

    public override string ToString() => Name;
}
