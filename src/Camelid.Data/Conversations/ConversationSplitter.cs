using Camelid.Data.Formats;

namespace Camelid.Data.Conversations;

/// <summary>What to do with one round (question + answer) that alone exceeds the limit.</summary>
public enum OverlongRound
{
    /// <summary>Drop the round; the rounds before and after it become separate pieces. The default: a cut answer
    /// teaches the model to stop mid-sentence, and such rounds are rare (pasted files, long code).</summary>
    Drop,

    /// <summary>Keep the question whole and cut the answer's tokens to fit, as a piece of its own; when the
    /// question alone does not fit, the round is dropped anyway.</summary>
    Truncate,
}

public sealed record SplitOptions
{
    /// <summary>Token budget of one piece, template overhead included (FastChat's --max-length, default 2048).</summary>
    public int MaxTokens { get; init; } = 2048;

    public OverlongRound Overlong { get; init; } = OverlongRound.Drop;
}

/// <summary>The pieces of one conversation, or why it gave none, plus what was changed on the way.</summary>
public sealed record SplitResult(IReadOnlyList<ShareGptConversation> Pieces, string? DropReason, int RoundsDropped, int AnswersTruncated,
                                 bool TrailingHumanTurnRemoved);

/// <summary>
/// Splits conversations into pieces that fit a token budget, at round boundaries, like FastChat's
/// split_long_conversation.py: rounds are added greedily while the piece fits, and the round that does not fit
/// starts the next piece. Differences from FastChat:
/// <list type="bullet">
/// <item>the chat template's own tokens are measured from the template (<see cref="ConversationTokenCounter"/>)
///   instead of a flat 6 per turn;</item>
/// <item>a leading system turn is repeated at the start of every piece, and counted in each;</item>
/// <item>a round that alone exceeds the limit is dropped or truncated (<see cref="OverlongRound"/>); FastChat
///   kept it whole, producing a sample over the limit;</item>
/// <item>a conversation that fits keeps its id; pieces of a split one get "{id}_{index of its first turn}" as in FastChat.</item>
/// </list>
/// Input must alternate human/gpt from human (run clean-sharegpt first); a trailing unanswered question is removed.
/// </summary>
public sealed class ConversationSplitter(ConversationTokenCounter counter, SplitOptions options)
{
    public const string NotAlternating = "not alternating human/gpt (run clean-sharegpt first)";
    public const string NoRound = "no complete round";
    public const string AllRoundsTooLong = "every round longer than the limit";

    public SplitResult Split(ShareGptConversation conversation)
    {
        var turns = conversation.Turns;
        int first = turns.Count > 0 && turns[0].Role == ShareGptRoles.System ? 1 : 0;
        for (int i = first; i < turns.Count; i++)
            if (turns[i].Role != ((i - first) % 2 == 0 ? ShareGptRoles.Human : ShareGptRoles.Gpt))
                return new SplitResult([], NotAlternating, 0, 0, false);
        int rounds = (turns.Count - first) / 2;
        bool trailingHuman = (turns.Count - first) % 2 == 1;
        if (rounds == 0)
            return new SplitResult([], NoRound, 0, 0, trailingHuman);

        var system = first == 1 ? turns[0] : null;
        int prefix = counter.Prefix(system?.Value);
        var pieces = new List<(int Start, List<ShareGptTurn> Turns)>();
        List<ShareGptTurn>? current = null;
        int currentStart = 0, currentTokens = 0, dropped = 0, truncated = 0;

        void Close()
        {
            if (current != null)
                pieces.Add((currentStart, current));
            current = null;
        }

        for (int r = 0; r < rounds; r++)
        {
            int at = first + 2 * r;
            ShareGptTurn human = turns[at], gpt = turns[at + 1];
            int question = counter.Count(human.Value);
            int cost = question + counter.Count(gpt.Value) + counter.RoundOverhead;
            if (prefix + cost > options.MaxTokens)
            {
                Close();
                int budget = options.MaxTokens - prefix - question - counter.RoundOverhead;
                string answer = options.Overlong == OverlongRound.Truncate && budget > 0 ? Truncate(gpt.Value, budget) : "";
                if (answer.Length > 0)
                {
                    pieces.Add((at, [human, gpt with { Value = answer }]));
                    truncated++;
                }
                else
                    dropped++;
                continue;
            }
            if (current != null && currentTokens + cost > options.MaxTokens)
                Close();
            if (current == null)
            {
                current = [];
                currentStart = at;
                currentTokens = prefix;
            }
            current.Add(human);
            current.Add(gpt);
            currentTokens += cost;
        }
        Close();
        if (pieces.Count == 0)
            return new SplitResult([], AllRoundsTooLong, dropped, truncated, trailingHuman);

        bool whole = pieces.Count == 1 && dropped == 0 && truncated == 0;
        var result = pieces.Select(p => new ShareGptConversation(
            whole ? conversation.Id : $"{conversation.Id}_{p.Start}",
            system == null ? p.Turns : [system, .. p.Turns])).ToList();
        return new SplitResult(result, null, dropped, truncated, trailingHuman);
    }

    /// <summary>The longest prefix of the text's tokens that re-encodes within <paramref name="budget"/> tokens.</summary>
    string Truncate(string text, int budget)
    {
        int[] ids = counter.Tokenizer.Encode(text, addBos: false);
        for (int keep = Math.Min(budget, ids.Length); keep > 0; keep--)
        {
            // A cut inside a multi-byte character decodes to U+FFFD: drop it.
            string cut = counter.Tokenizer.Decode(ids.AsSpan(0, keep)).TrimEnd('\uFFFD');
            if (counter.Count(cut) <= budget)
                return cut;
        }
        return "";
    }
}
