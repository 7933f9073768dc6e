using Camelid.Data.Instructions;

namespace Camelid.Data.Nano;

/// <summary>
/// Camelid-Nano's instruction and chat data: for every <see cref="NanoSkill"/>, <c>perSkill</c> conversations on one
/// side of the held-out rule (<see cref="NanoHeldOut"/>). Conversation i of a skill is a pure function of
/// (seed, skill, i), so the same arguments give the same examples on every machine.
/// </summary>
public static class NanoInstructions
{
    /// <summary>Out of ten conversations, how many have one, two and three exchanges.</summary>
    static readonly int[] TurnsByTenth = [1, 1, 1, 1, 1, 1, 1, 2, 2, 3];

    /// <summary>
    /// Draws for one conversation before giving up: a three-exchange held-out conversation needs all three keys held
    /// out (about 1 draw in 1,000), and a held-out set must not run out of unseen wordings.
    /// </summary>
    const int MaxDrawsPerExample = 1 << 20;

    public static IReadOnlyList<NanoSkill> Skills { get; } = Enum.GetValues<NanoSkill>();

    /// <summary>
    /// <paramref name="perSkill"/> examples of every skill, interleaved (one of each skill in turn). Held-out
    /// prompts are all distinct, so that each one counts once in the accuracy; training may repeat a prompt.
    /// </summary>
    public static IEnumerable<NanoExample> Generate(int seed, int perSkill, NanoSplit split) =>
        Generate(seed, Skills.ToDictionary(skill => skill, _ => perSkill), split);

    /// <summary>
    /// <paramref name="countBySkill"/>[skill] examples of every skill, interleaved one of each skill in turn until a
    /// skill's count runs out. Example i of a skill does not depend on the counts, so a larger count only adds examples.
    /// </summary>
    public static IEnumerable<NanoExample> Generate(int seed, IReadOnlyDictionary<NanoSkill, int> countBySkill, NanoSplit split)
    {
        foreach (var skill in Skills)
            ArgumentOutOfRangeException.ThrowIfNegative(countBySkill[skill], $"countBySkill[{NanoSkills.Name(skill)}]");
        var bySkill = Skills.Select(skill => GenerateSkill(seed, skill, countBySkill[skill], split)).ToList();
        int longest = bySkill.Max(examples => examples.Count);
        for (int i = 0; i < longest; i++)
            foreach (var examples in bySkill)
                if (i < examples.Count)
                    yield return examples[i];
    }

    /// <summary><paramref name="count"/> examples of one skill.</summary>
    public static IReadOnlyList<NanoExample> GenerateSkill(int seed, NanoSkill skill, int count, NanoSplit split)
    {
        var examples = new List<NanoExample>(count);
        var heldOutPrompts = new HashSet<string>(StringComparer.Ordinal);
        for (long slot = 0; examples.Count < count; slot++)
        {
            // The number of exchanges is drawn once per slot, so held-out sets keep the training mix of lengths even
            // though longer conversations are rarer on the held-out side.
            int turns = TurnsByTenth[new DeterministicRandom(seed, Stream(skill), slot << 24).Next(TurnsByTenth.Length)];
            for (int draw = 1; ; draw++)
            {
                if (draw >= MaxDrawsPerExample)
                    throw new InvalidOperationException(
                        $"{NanoSkills.Name(skill)}: found only {examples.Count} distinct {split} prompts of {count} asked; ask for fewer");
                var draft = NanoSkillDrafts.Draft(skill, new DeterministicRandom(seed, Stream(skill), slot << 24 | (long)draw), turns);
                if (!draft.Keys.TrueForAll(key => NanoHeldOut.SplitOf(key) == split))
                    continue;
                var example = draft.ToExample(skill);
                if (split == NanoSplit.HeldOut && !heldOutPrompts.Add(example.PromptText))
                    continue;
                examples.Add(example);
                break;
            }
        }
        return examples;
    }

    static int Stream(NanoSkill skill) => 0x4E41_0000 + (int)skill;
}

/// <summary>The names skills have in files and reports.</summary>
public static class NanoSkills
{
    public static string Name(NanoSkill skill) => skill switch
    {
        NanoSkill.Arithmetic => "arithmetic",
        NanoSkill.WordsAndLists => "words-and-lists",
        NanoSkill.UnitConversion => "unit-conversion",
        NanoSkill.Facts => "facts",
        NanoSkill.SystemPrompt => "system-prompt",
        NanoSkill.Identity => "identity",
        NanoSkill.CommandHelp => "command-help",
        _ => throw new ArgumentOutOfRangeException(nameof(skill)),
    };

    public static NanoSkill Parse(string name) =>
        NanoInstructions.Skills.FirstOrDefault(s => Name(s) == name) is var skill && Name(skill) == name
            ? skill
            : throw new FormatException($"unknown Camelid-Nano skill \"{name}\" (known: {string.Join(", ", NanoInstructions.Skills.Select(Name))})");
}
