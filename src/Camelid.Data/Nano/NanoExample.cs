namespace Camelid.Data.Nano;

/// <summary>The skills Camelid-Nano is taught and scored on, one held-out accuracy each.</summary>
public enum NanoSkill
{
    /// <summary>Two-digit addition and subtraction, one-digit multiplication; the answer is the bare number.</summary>
    Arithmetic,

    /// <summary>Reverse, sort, count, first/last item of a list; upper/lower case of a word.</summary>
    WordsAndLists,

    /// <summary>km↔m, m↔cm, kg↔g, hours↔minutes, minutes↔seconds with whole-number answers (<see cref="NanoUnits"/>).</summary>
    UnitConversion,

    /// <summary>Questions answered from the shipped table (<see cref="NanoFacts"/>).</summary>
    Facts,

    /// <summary>A system prompt sets a rule for the form of the answer (<see cref="NanoSystemRules"/>) and the reply obeys it.</summary>
    SystemPrompt,

    /// <summary>Greetings, thanks, goodbyes and who the model is (<see cref="NanoIdentity"/>).</summary>
    Identity,

    /// <summary>"How do I …?" about Camelid, answered with a command line (<see cref="NanoCommandHelp"/>).</summary>
    CommandHelp,
}

/// <summary>Which side of the held-out rule an example is on (<see cref="NanoHeldOut"/>).</summary>
public enum NanoSplit { Train, HeldOut }

/// <summary>
/// One conversation: an optional system message, then user/assistant exchanges. The last message is the
/// assistant's answer that is trained on or expected; earlier assistant messages are context (and correct).
/// </summary>
public sealed record NanoExample(NanoSkill Skill, IReadOnlyList<(string Role, string Content)> Messages, string ExpectedAnswer)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";

    /// <summary>Everything before the expected answer: what a model is given to answer.</summary>
    public IReadOnlyList<(string Role, string Content)> Prompt => Messages.Take(Messages.Count - 1).ToList();

    /// <summary>The prompt as one string (roles and contents, one per line), for comparing prompts across sets.</summary>
    public string PromptText => string.Join("\n", Prompt.Select(m => $"{m.Role}: {m.Content}"));
}
