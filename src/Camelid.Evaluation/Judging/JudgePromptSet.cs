using System.Text.Json;
using Camelid.Evaluation.Files;

namespace Camelid.Evaluation.Judging;

/// <summary>
/// The judge prompts of one kind (single or pairwise) in four slots: plain or reference-guided, first turn or
/// later turn. A reference-guided slot may be empty (plain prompts are used then); a multi-turn slot is needed
/// only when some question has more than one turn.
/// </summary>
public sealed class JudgePromptSet
{
    // FastChat's gen_judgment picks these names from judge_prompts.jsonl; in a file that holds them they win.
    static readonly Dictionary<(JudgeKind, bool Reference, bool MultiTurn), string> FastChatNames = new()
    {
        [(JudgeKind.Single, false, false)] = "single-v1",
        [(JudgeKind.Single, true, false)] = "single-math-v1",
        [(JudgeKind.Single, false, true)] = "single-v1-multi-turn",
        [(JudgeKind.Single, true, true)] = "single-math-v1-multi-turn",
        [(JudgeKind.Pairwise, false, false)] = "pair-v2",
        [(JudgeKind.Pairwise, true, false)] = "pair-math-v1",
        [(JudgeKind.Pairwise, false, true)] = "pair-v2-multi-turn",
        [(JudgeKind.Pairwise, true, true)] = "pair-math-v1-multi-turn",
    };

    readonly Dictionary<(bool Reference, bool MultiTurn), JudgePrompt> _slots = new();

    public JudgeKind Kind { get; }

    JudgePromptSet(JudgeKind kind) => Kind = kind;

    public IEnumerable<JudgePrompt> Prompts => _slots.OrderBy(s => s.Key.MultiTurn).ThenBy(s => s.Key.Reference).Select(s => s.Value);

    public static JudgePromptSet BuiltIn(JudgeKind kind) => From(kind, BuiltInJudgePrompts.All, "Camelid's built-in prompts");

    /// <summary>The prompts of <paramref name="kind"/> from a FastChat-style <c>judge_prompts.jsonl</c>.</summary>
    public static JudgePromptSet Load(string path, JudgeKind kind)
    {
        var prompts = JsonLines.Read(path, Parse, allowTornTail: false).Records;
        try
        {
            return From(kind, prompts, path);
        }
        catch (FormatException e)
        {
            throw new EvaluationFormatException($"{path}: {e.Message}", e);
        }
    }

    public static JudgePrompt Parse(JsonElement record)
    {
        string name = JsonFields.String(record, "name");
        string type = JsonFields.String(record, "type");
        var kind = type switch
        {
            "single" => JudgeKind.Single,
            "pairwise" => JudgeKind.Pairwise,
            _ => throw new FormatException($"judge prompt '{name}' has type \"{type}\"; expected \"single\" or \"pairwise\""),
        };
        string template = JsonFields.String(record, "prompt_template");
        PromptTemplate.Validate(name, template);
        string format = JsonFields.String(record, "output_format");
        bool formatFits = kind == JudgeKind.Single
            ? format == JudgePrompt.RatingFormat
            : format is JudgePrompt.VerdictFormat or JudgePrompt.TwoRatingsFormat;
        if (!formatFits)
            throw new FormatException($"judge prompt '{name}' ({type}) has output_format \"{format}\"; expected " +
                                      (kind == JudgeKind.Single ? "\"[[rating]]\"" : "\"[[A]]\" or \"[[rating_a,rating_b]]\""));
        return new JudgePrompt(name, kind, JsonFields.OptionalString(record, "system_prompt") ?? "", template, format,
                               JsonFields.OptionalString(record, "description") ?? "", JsonFields.OptionalString(record, "category") ?? "general");
    }

    static JudgePromptSet From(JudgeKind kind, IEnumerable<JudgePrompt> prompts, string source)
    {
        var set = new JudgePromptSet(kind);
        foreach (var group in prompts.Where(p => p.Kind == kind).GroupBy(p => (p.UsesReference, p.IsMultiTurn)))
        {
            var candidates = group.ToList();
            string preferred = FastChatNames[(kind, group.Key.UsesReference, group.Key.IsMultiTurn)];
            set._slots[group.Key] = candidates.FirstOrDefault(p => p.Name == preferred) ?? candidates[0];
        }
        if (!set._slots.ContainsKey((false, false)))
            throw new FormatException($"{source} has no {(kind == JudgeKind.Single ? "single" : "pairwise")} judge prompt for a first turn without a reference answer");
        return set;
    }

    /// <summary>
    /// The prompt for judging turn <paramref name="turn"/>, reference-guided when <paramref name="withReference"/>
    /// and such a prompt exists. Null when no prompt can show that turn (a file with no multi-turn prompt).
    /// </summary>
    public JudgePrompt? Select(int turn, bool withReference)
    {
        bool multiTurn = turn > 1;
        var prompt = withReference && _slots.TryGetValue((true, multiTurn), out var guided) ? guided
                   : _slots.TryGetValue((false, multiTurn), out var plain) ? plain
                   : null;
        return prompt != null && prompt.CanShowTurn(turn) ? prompt : null;
    }
}
