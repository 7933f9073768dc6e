using System.Buffers;
using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>What <c>clean-sharegpt</c> does besides the HTML conversion, which is always on.</summary>
public sealed record CleanOptions
{
    /// <summary>Keep only conversations whose <see cref="LanguageGuesser"/> guess is one of these ("en", "zh", …); empty keeps all.</summary>
    public IReadOnlyList<string> KeepLanguages { get; init; } = [];

    /// <summary>Drop conversations in which any turn contains one of these phrases (case-insensitive).</summary>
    public IReadOnlyList<string> BlockedPhrases { get; init; } = [];

    /// <summary>Drop later conversations with an id or with content (roles and texts) seen before.</summary>
    public bool Deduplicate { get; init; } = true;
}

/// <summary>Why a conversation was dropped; the names are what the summary prints.</summary>
public static class DropReasons
{
    public const string NoTurns = "no turns";
    public const string UnknownRole = "unknown role";
    public const string HtmlError = "html conversion failed";
    public const string TooShort = "too short";
    public const string EmptyTurn = "empty turn";
    public const string BrokenAlternation = "broken alternation";
    public const string BlockedPhrase = "blocked phrase";
    public const string Language = "language";
    public const string DuplicateId = "duplicate id";
    public const string DuplicateContent = "duplicate content";
}

/// <summary>The outcome for one conversation: the cleaned conversation, or why it was dropped.</summary>
public readonly record struct CleanResult(ShareGptConversation? Conversation, string? DropReason,
                                          bool LeadingGptTurnRemoved = false, bool TrailingHumanTurnRemoved = false)
{
    public static CleanResult Dropped(string reason) => new(null, reason);
}

/// <summary>
/// Cleans one ShareGPT conversation (pure and thread-safe; duplicates are <see cref="ConversationDeduplicator"/>'s job).
/// The steps, in order, each one able to drop the conversation with a reason:
/// <list type="number">
/// <item>no turns; a role that is not human/gpt/system or an alias (user, assistant, chatgpt, bard, …);</item>
/// <item>every turn: HTML → Markdown when it looks like HTML (<see cref="HtmlToMarkdown"/>), then ShareGPT's
///   "Copy code" / "2 / 2" artefacts removed (<see cref="ShareGptArtifacts"/>); roles renamed to human/gpt/system;</item>
/// <item>alternation repaired where FastChat repairs it: one leading gpt turn (a share that starts with the
///   model's reply) and one trailing human turn (an unanswered question) are removed. One system turn may
///   stand first and is kept;</item>
/// <item>fewer than 2 turns left → too short; an empty turn → empty turn; otherwise human and gpt must strictly
///   alternate from human → broken alternation (turns are never merged or guessed);</item>
/// <item>a blocked phrase in any turn; a language not kept.</item>
/// </list>
/// </summary>
public sealed class ConversationCleaner
{
    readonly CleanOptions _options;
    readonly SearchValues<string>? _blocked;
    readonly HashSet<string> _languages;

    public ConversationCleaner(CleanOptions options)
    {
        _options = options;
        var phrases = options.BlockedPhrases.Where(p => p.Length > 0).ToArray();
        _blocked = phrases.Length > 0 ? SearchValues.Create(phrases, StringComparison.OrdinalIgnoreCase) : null;
        _languages = options.KeepLanguages.Select(l => l.Trim().ToLowerInvariant()).Where(l => l.Length > 0).ToHashSet();
    }

    public CleanResult Clean(ShareGptConversation conversation)
    {
        if (conversation.Turns.Count == 0)
            return CleanResult.Dropped(DropReasons.NoTurns);
        var turns = new List<ShareGptTurn>(conversation.Turns.Count);
        foreach (var turn in conversation.Turns)
        {
            if (turn.Role is not { } role)
                return CleanResult.Dropped(DropReasons.UnknownRole);
            string text;
            try
            {
                text = ShareGptArtifacts.Remove(HtmlToMarkdown.LooksLikeHtml(turn.Value) ? HtmlToMarkdown.Convert(turn.Value) : turn.Value);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return CleanResult.Dropped(DropReasons.HtmlError);
            }
            turns.Add(new ShareGptTurn(role, text));
        }

        int first = turns[0].From == ShareGptRoles.System ? 1 : 0;
        bool leadingGpt = false, trailingHuman = false;
        if (turns.Count > first && turns[first].From == ShareGptRoles.Gpt)
        {
            turns.RemoveAt(first);
            leadingGpt = true;
        }
        if (turns.Count > first && turns[^1].From == ShareGptRoles.Human)
        {
            turns.RemoveAt(turns.Count - 1);
            trailingHuman = true;
        }
        if (turns.Count - first < 2)
            return CleanResult.Dropped(DropReasons.TooShort);
        if (turns.Any(t => t.Value.Length == 0))
            return CleanResult.Dropped(DropReasons.EmptyTurn);
        for (int i = first; i < turns.Count; i++)
            if (turns[i].From != ((i - first) % 2 == 0 ? ShareGptRoles.Human : ShareGptRoles.Gpt))
                return CleanResult.Dropped(DropReasons.BrokenAlternation);
        if (_blocked != null && turns.Any(t => t.Value.AsSpan().ContainsAny(_blocked)))
            return CleanResult.Dropped(DropReasons.BlockedPhrase);
        if (_languages.Count > 0 && !_languages.Contains(LanguageGuesser.Guess(string.Join("\n", turns.Select(t => t.Value)))))
            return CleanResult.Dropped(DropReasons.Language);
        return new CleanResult(conversation with { Turns = turns }, null, leadingGpt, trailingHuman);
    }
}
