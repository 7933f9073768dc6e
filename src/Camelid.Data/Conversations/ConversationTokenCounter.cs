using Camelid.Data.Formats;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Data.Conversations;

/// <summary>
/// Token counts of conversations as a chat template lays them out for training. The text of every turn is
/// encoded exactly with the model's tokenizer; what the template adds around it is measured once from the
/// template itself (by rendering a probe conversation and subtracting its texts):
/// <code>
///   piece tokens ≤ Prefix(system) + Σ over rounds (tokens(human) + tokens(gpt) + RoundOverhead)
/// </code>
/// Prefix is BOS + the system prompt + the first user header + the assistant header ("USER: … ASSISTANT:" in
/// vicuna); RoundOverhead is the end-of-reply marker plus the next round's headers. The last round is charged
/// headers for a next question it does not have, so the bound is a few tokens high, never low. Merges across a
/// header/text boundary can move a count by a token either way; the bound's slack covers that in practice.
/// With no template, turns are charged their text only (plus BOS), like a raw-text count.
/// </summary>
public sealed class ConversationTokenCounter
{
    const string ProbeQuestion = "hello";
    const string ProbeAnswer = "world";

    readonly Tokenizer _tokenizer;
    readonly ChatTemplate? _template;
    readonly int _bos;
    readonly int _defaultPrefix;
    readonly Dictionary<string, int> _prefixBySystem = new(StringComparer.Ordinal);
    readonly Lock _lock = new();

    public ConversationTokenCounter(Tokenizer tokenizer, ChatTemplate? template)
    {
        _tokenizer = tokenizer;
        _template = template;
        _bos = tokenizer.AddBosByDefault && tokenizer.BosId >= 0 && template?.RendersBos != true ? 1 : 0;
        if (template == null)
            return;
        ChatMessage User(string text) => new(ChatRole.User, text);
        int question = Count(ProbeQuestion), answer = Count(ProbeAnswer);
        int one = Render([User(ProbeQuestion)]);
        _defaultPrefix = one - question;
        RoundOverhead = Render([User(ProbeQuestion), new ChatMessage(ChatRole.Assistant, ProbeAnswer), User(ProbeQuestion)]) - one - answer - question;
    }

    public Tokenizer Tokenizer => _tokenizer;
    public ChatTemplate? Template => _template;

    /// <summary>Tokens a round adds besides its two texts (0 without a template).</summary>
    public int RoundOverhead { get; }

    /// <summary>Tokens of a text alone (no BOS), as the tokenizer encodes it.</summary>
    public int Count(string text) => _tokenizer.Encode(text, addBos: false).Length;

    /// <summary>Tokens before the first question's text and after it up to the reply: BOS, system prompt, headers.</summary>
    public int Prefix(string? systemPrompt)
    {
        if (_template == null)
            return _bos + (systemPrompt != null ? Count(systemPrompt) : 0);
        if (systemPrompt == null)
            return _defaultPrefix;
        lock (_lock)
            if (_prefixBySystem.TryGetValue(systemPrompt, out int cached))
                return cached;
        int prefix = Render([new ChatMessage(ChatRole.System, systemPrompt), new ChatMessage(ChatRole.User, ProbeQuestion)]) - Count(ProbeQuestion);
        lock (_lock)
            if (_prefixBySystem.Count < 1024) // a dump with a different system prompt per conversation must not grow this without bound
                _prefixBySystem[systemPrompt] = prefix;
        return prefix;
    }

    /// <summary>The upper bound above for a whole conversation (optional leading system turn, then human/gpt rounds).</summary>
    public int CountConversation(IReadOnlyList<ShareGptTurn> turns) =>
        CountConversation(turns, turns.Select(t => Count(t.Value)).ToArray());

    /// <summary>The same, from each turn's text token count already known.</summary>
    public int CountConversation(IReadOnlyList<ShareGptTurn> turns, IReadOnlyList<int> textTokens)
    {
        int first = turns.Count > 0 && turns[0].Role == ShareGptRoles.System ? 1 : 0;
        int total = Prefix(first == 1 ? turns[0].Value : null);
        for (int i = first; i < turns.Count; i++)
            total += textTokens[i] + ((i - first) % 2 == 1 ? RoundOverhead : 0);
        return total;
    }

    /// <summary>Tokens of a rendered prompt: plain pieces encoded as text, each control-token piece one token.</summary>
    int Render(IReadOnlyList<ChatMessage> messages) =>
        _bos + _template!.RenderSegments(messages).Sum(s => s.IsSpecial ? 1 : Count(s.Text));
}
