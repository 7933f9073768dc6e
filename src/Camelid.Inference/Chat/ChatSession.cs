using Camelid.Inference.Generation;
using Camelid.Inference.Sampling;
using Camelid.Model;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Inference.Chat;

/// <summary>
/// A multi-turn conversation with a model: renders the history with the chat template, keeps it within
/// the context by dropping the oldest turns (and saying so), and reuses the KV cache between turns.
/// </summary>
public sealed class ChatSession
{
    readonly Generator _generator;
    readonly KvCache _cache;
    readonly Tokenizer _tokenizer;
    readonly List<ChatMessage> _turns = new(); // user/assistant, alternating, oldest first

    public ChatTemplate Template { get; }
    public string? SystemPrompt { get; }
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Most tokens per answer; also the room kept free in the context for the answer (at most a quarter of it).</summary>
    public int MaxAnswerTokens { get; init; } = 512;
    public IReadOnlyList<ChatMessage> History => _turns;

    /// <summary>Raised with the number of turns dropped when the history no longer fits the context.</summary>
    public event Action<int>? HistoryTruncated;

    public ChatSession(LlamaModel model, ChatTemplate template, string? systemPrompt, int contextLength)
    {
        _tokenizer = model.RequireTokenizer();
        _generator = new Generator(model);
        _cache = model.NewKvCache(contextLength);
        Template = template;
        SystemPrompt = systemPrompt;
    }

    public int ContextLength => _cache.Capacity;

    public void Reset()
    {
        _turns.Clear();
        _cache.Clear();
    }

    /// <summary>Streams the assistant's answer to <paramref name="userText"/>; the answer joins the history when complete or interrupted.</summary>
    public async IAsyncEnumerable<GenerationUpdate> ReplyAsync(string userText,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var before = _turns.ToList();
        _turns.Add(new ChatMessage(ChatRole.User, userText));
        int[] prompt;
        try
        {
            prompt = FitPrompt();
        }
        catch
        {
            // A message that cannot fit even alone is rejected without costing the user their history.
            _turns.Clear();
            _turns.AddRange(before);
            throw;
        }
        var request = new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = Math.Min(MaxAnswerTokens, _cache.Capacity - prompt.Length),
            Sampling = Sampling,
            StopStrings = Template.StopStrings,
        };
        var answer = new System.Text.StringBuilder();
        await foreach (var update in _generator.GenerateAsync(request, _cache, cancellation))
        {
            // An answer starts at its first visible character: templates end the prompt with "ASSISTANT:" and
            // the model's first piece usually carries the separating space.
            var shown = answer.Length == 0 ? update with { Text = update.Text.TrimStart() } : update;
            answer.Append(shown.Text);
            yield return shown;
        }
        _turns.Add(new ChatMessage(ChatRole.Assistant, answer.ToString().Trim()));
    }

    /// <summary>Tokens of the rendered conversation, dropping the oldest user/assistant pairs until it fits with room for an answer.</summary>
    int[] FitPrompt()
    {
        // At most a quarter of the context is held back for the answer, so a small-context model (Camelid-Nano: 256)
        // keeps a few exchanges of history; an answer that outgrows the room ends with finish reason "length".
        int budget = _cache.Capacity - Math.Min(MaxAnswerTokens, _cache.Capacity / 4);
        int dropped = 0;
        while (true)
        {
            var tokens = Template.Encode(_tokenizer, Messages());
            if (tokens.Length <= budget)
            {
                if (dropped > 0)
                    HistoryTruncated?.Invoke(dropped);
                return tokens;
            }
            if (_turns.Count <= 1)
                throw new ContextOverflowException(tokens.Length + 1, budget);
            _turns.RemoveRange(0, 2); // the oldest question and its answer
            dropped += 2;
        }
    }

    List<ChatMessage> Messages()
    {
        var messages = new List<ChatMessage>(_turns.Count + 1);
        if (SystemPrompt != null)
            messages.Add(new ChatMessage(ChatRole.System, SystemPrompt));
        messages.AddRange(_turns);
        return messages;
    }
}
