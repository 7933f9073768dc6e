using Camelid.Data.Instructions;

namespace Camelid.Data.Nano;

/// <summary>A conversation being built: system prompt, exchanges, and the split keys of its user turns (see <see cref="NanoHeldOut"/>).</summary>
internal sealed class NanoDraft(string? system)
{
    public string? System { get; } = system;
    public List<(string User, string Answer)> Turns { get; } = [];
    public List<string> Keys { get; } = [];

    public void Add(string user, string answer, params string[] keys)
    {
        Turns.Add((user, answer));
        Keys.AddRange(keys);
    }

    public NanoExample ToExample(NanoSkill skill)
    {
        var messages = new List<(string Role, string Content)>();
        if (System != null)
            messages.Add((NanoExample.System, System));
        foreach (var (user, answer) in Turns)
        {
            messages.Add((NanoExample.User, user));
            messages.Add((NanoExample.Assistant, answer));
        }
        return new NanoExample(skill, messages, Turns[^1].Answer);
    }
}

/// <summary>A single question with its answer and split key, before it is put into a conversation.</summary>
internal readonly record struct NanoQuestion(string User, string Answer, string Key);

/// <summary>Draws one conversation of a skill from a random stream; <see cref="NanoInstructions"/> decides whether it is kept.</summary>
internal static class NanoSkillDrafts
{
    static readonly string[] PlainSystems = ["You are a helpful assistant.", "You are Camelid-Nano, a small helpful assistant.", "You are a friendly assistant."];
    static readonly string[] QuestionPrefixes = ["", "", "Quick question: ", "Tell me, ", "I wonder, ", "Please answer: "];
    static readonly string[] HelpPrefixes = ["", "", "In Camelid, ", "With camelid, ", "Quick question: ", "Please tell me: ", "Hey, ", "I want to know: "];

    public static NanoDraft Draft(NanoSkill skill, DeterministicRandom rng, int turns) => skill switch
    {
        NanoSkill.Arithmetic => Arithmetic(rng, turns),
        NanoSkill.WordsAndLists => WordsAndLists(rng, turns),
        NanoSkill.UnitConversion => UnitConversion(rng, turns),
        NanoSkill.Facts => Facts(rng, turns),
        NanoSkill.SystemPrompt => SystemPrompt(rng, turns),
        NanoSkill.Identity => Identity(rng, turns),
        NanoSkill.CommandHelp => CommandHelp(rng, turns),
        _ => throw new ArgumentOutOfRangeException(nameof(skill)),
    };

    static T Pick<T>(DeterministicRandom rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    static string? PlainSystem(DeterministicRandom rng) => rng.Next(2) == 0 ? null : Pick(rng, PlainSystems);

    /// <summary>"Quick question: what is …" — the question's first letter is lowered after a prefix.</summary>
    static string WithPrefix(string prefix, string question) =>
        prefix.Length == 0 ? question : prefix + char.ToLowerInvariant(question[0]) + question[1..];

    // ---- arithmetic -------------------------------------------------------------------------------------------

    static NanoQuestion ArithmeticQuestion(DeterministicRandom rng)
    {
        int kind = rng.Next(10);
        if (kind < 4)
        {
            int a = 10 + rng.Next(90), b = 10 + rng.Next(90);
            string[] wordings = [$"What is {a} + {b}?", $"{a} + {b} =", $"Calculate {a} + {b}.", $"What is {a} plus {b}?", $"Add {a} and {b}.", $"What is the sum of {a} and {b}?"];
            return new(Pick(rng, wordings), (a + b).ToString(), ArithmeticKey(a, '+', b));
        }
        if (kind < 8)
        {
            int a = 10 + rng.Next(90), b = 10 + rng.Next(90);
            if (a < b)
                (a, b) = (b, a);
            string[] wordings = [$"What is {a} - {b}?", $"{a} - {b} =", $"Calculate {a} - {b}.", $"What is {a} minus {b}?", $"Subtract {b} from {a}.", $"Take {b} away from {a}."];
            return new(Pick(rng, wordings), (a - b).ToString(), ArithmeticKey(a, '-', b));
        }
        {
            int a = 1 + rng.Next(9), b = 1 + rng.Next(9);
            string[] wordings = [$"What is {a} * {b}?", $"{a} * {b} =", $"What is {a} times {b}?", $"Multiply {a} by {b}.", $"What is {a} multiplied by {b}?", $"Calculate {a} * {b}."];
            return new(Pick(rng, wordings), (a * b).ToString(), ArithmeticKey(a, '*', b));
        }
    }

    /// <summary>The problem, whatever its wording: "47 + 25" in any phrasing is one key.</summary>
    static string ArithmeticKey(int a, char op, int b) => $"arithmetic:{a} {op} {b}";

    static NanoDraft Arithmetic(DeterministicRandom rng, int turns)
    {
        var draft = new NanoDraft(PlainSystem(rng));
        var first = ArithmeticQuestion(rng);
        draft.Add(first.User, first.Answer, first.Key);
        int value = int.Parse(first.Answer);
        while (draft.Turns.Count < turns)
        {
            int k = 1 + rng.Next(20);
            if (k <= value && rng.Next(2) == 0)
            {
                draft.Add(Pick(rng, [$"And subtract {k}?", $"Now take away {k}.", $"Subtract {k} from that."]), (value - k).ToString(), ArithmeticKey(value, '-', k));
                value -= k;
            }
            else
            {
                draft.Add(Pick(rng, [$"And add {k} to that?", $"Now add {k}.", $"Add {k} to that."]), (value + k).ToString(), ArithmeticKey(value, '+', k));
                value += k;
            }
        }
        return draft;
    }

    // ---- words and lists --------------------------------------------------------------------------------------

    enum ListTask { Reverse, Sort, Count, First, Last }

    static string Joined(IEnumerable<string> items) => string.Join(", ", items);

    static string ListAnswer(ListTask task, List<string> items) => task switch
    {
        ListTask.Reverse => Joined(Enumerable.Reverse(items)),
        ListTask.Sort => Joined(items.Order(StringComparer.Ordinal)),
        ListTask.Count => items.Count.ToString(),
        ListTask.First => items[0],
        _ => items[^1],
    };

    static List<string> ListResult(ListTask task, List<string> items) => task switch
    {
        ListTask.Reverse => [.. Enumerable.Reverse(items)],
        ListTask.Sort => [.. items.Order(StringComparer.Ordinal)],
        _ => items,
    };

    static string ListKey(ListTask task, List<string> items) => $"words:{task.ToString().ToLowerInvariant()}:{string.Join(",", items)}";

    static NanoQuestion WordQuestion(DeterministicRandom rng, out List<string>? list, out ListTask? task)
    {
        int kind = rng.Next(7);
        if (kind < 5)
        {
            var items = rng.Sample(NanoWords.ListItems, 2 + rng.Next(5));
            var t = (ListTask)kind;
            string l = Joined(items);
            string[] wordings = t switch
            {
                ListTask.Reverse => [$"Reverse this list: {l}", $"Reverse the order of these words: {l}", $"Write this list backwards: {l}"],
                ListTask.Sort => [$"Sort this list alphabetically: {l}", $"Put these words in alphabetical order: {l}", $"Sort these words from A to Z: {l}"],
                ListTask.Count => [$"How many items are in this list: {l}?", $"Count the words in this list: {l}", $"How many words are there in: {l}?"],
                ListTask.First => [$"What is the first item in this list: {l}?", $"What is the first word of: {l}?", $"Give me the first item of: {l}"],
                _ => [$"What is the last item in this list: {l}?", $"What is the last word of: {l}?", $"Give me the last item of: {l}"],
            };
            list = items;
            task = t;
            return new(Pick(rng, wordings), ListAnswer(t, items), ListKey(t, items));
        }
        list = null;
        task = null;
        string word = Pick(rng, NanoWords.ListItems);
        if (kind == 5)
            return new(Pick(rng, [$"Write {word} in uppercase.", $"Make this word uppercase: {word}", $"What is {word} in capital letters?"]),
                word.ToUpperInvariant(), $"words:upper:{word}");
        string shown = rng.Next(3) == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word.ToUpperInvariant();
        return new(Pick(rng, [$"Write {shown} in lowercase.", $"Make this word lowercase: {shown}", $"What is {shown} in small letters?"]),
            word, $"words:lower:{shown}");
    }

    static NanoDraft WordsAndLists(DeterministicRandom rng, int turns)
    {
        var draft = new NanoDraft(PlainSystem(rng));
        var first = WordQuestion(rng, out var list, out var task);
        draft.Add(first.User, first.Answer, first.Key);
        if (list == null)
        {
            // A word was cased: the follow-ups switch its case back and forth.
            string current = first.Answer;
            while (draft.Turns.Count < turns)
            {
                bool toLower = current == current.ToUpperInvariant();
                string next = toLower ? current.ToLowerInvariant() : current.ToUpperInvariant();
                draft.Add(toLower ? Pick(rng, ["And in lowercase?", "Now make it lowercase."]) : Pick(rng, ["And in uppercase?", "Now make it uppercase."]),
                    next, toLower ? $"words:lower:{current}" : $"words:upper:{current}");
                current = next;
            }
            return draft;
        }
        var currentList = ListResult(task!.Value, list);
        var previous = task.Value;
        while (draft.Turns.Count < turns)
        {
            var choices = Enum.GetValues<ListTask>().Where(t => t != previous).ToList();
            var next = Pick(rng, choices);
            string[] wordings = next switch
            {
                ListTask.Reverse => ["Now reverse it.", "Now write it backwards."],
                ListTask.Sort => ["Now sort it alphabetically.", "Now put it in alphabetical order."],
                ListTask.Count => ["How many items is that?", "How many words are in it?"],
                ListTask.First => ["What is the first item now?", "Which word is first?"],
                _ => ["What is the last item now?", "Which word is last?"],
            };
            draft.Add(Pick(rng, wordings), ListAnswer(next, currentList), ListKey(next, currentList));
            currentList = ListResult(next, currentList);
            previous = next;
        }
        return draft;
    }

    // ---- unit conversion --------------------------------------------------------------------------------------

    static int ConvertibleValue(DeterministicRandom rng, NanoConversion conversion) =>
        conversion.Divide ? (1 + rng.Next(99)) * conversion.Factor : 1 + rng.Next(99);

    static NanoQuestion ConversionQuestion(DeterministicRandom rng, NanoConversion c, int n)
    {
        string[] wordings =
        [
            $"How many {c.To.Plural} are in {n} {c.From.Name(n)}?", $"Convert {n} {c.From.Symbol} to {c.To.Symbol}.",
            $"What is {n} {c.From.Name(n)} in {c.To.Plural}?", $"How many {c.To.Plural} is {n} {c.From.Name(n)}?",
        ];
        return new(Pick(rng, wordings), ConversionAnswer(c, n), ConversionKey(c, n));
    }

    static string ConversionAnswer(NanoConversion c, int n) => $"{c.Apply(n)} {c.To.Symbol}";

    static string ConversionKey(NanoConversion c, int n) => $"units:{n} {c.From.Symbol}>{c.To.Symbol}";

    static NanoDraft UnitConversion(DeterministicRandom rng, int turns)
    {
        var draft = new NanoDraft(PlainSystem(rng));
        var conversion = Pick(rng, NanoUnits.Conversions);
        var first = ConversionQuestion(rng, conversion, ConvertibleValue(rng, conversion));
        draft.Add(first.User, first.Answer, first.Key);
        while (draft.Turns.Count < turns)
        {
            int n = ConvertibleValue(rng, conversion);
            draft.Add(Pick(rng, [$"And {n} {conversion.From.Name(n)}?", $"What about {n} {conversion.From.Symbol}?"]),
                ConversionAnswer(conversion, n), ConversionKey(conversion, n));
        }
        return draft;
    }

    // ---- facts ------------------------------------------------------------------------------------------------

    /// <summary>Keys of knowledge skills are the wording under its system prompt (see <see cref="NanoHeldOut"/>).</summary>
    static string WordingKey(string skill, string? system, string user) => $"{skill}:{system}\n{user}";

    static NanoDraft Facts(DeterministicRandom rng, int turns)
    {
        var draft = new NanoDraft(PlainSystem(rng));
        var fact = Pick(rng, NanoFacts.All);
        string user = WithPrefix(Pick(rng, QuestionPrefixes), Pick(rng, fact.Questions));
        draft.Add(user, fact.Answer, WordingKey("facts", draft.System, user));
        bool capitals = fact.Id.StartsWith("capital-", StringComparison.Ordinal);
        while (draft.Turns.Count < turns)
        {
            string followUp;
            string answer;
            if (capitals)
            {
                var (country, capital) = Pick(rng, NanoFacts.Capitals);
                followUp = Pick(rng, [$"And of {country}?", $"What about {country}?"]);
                answer = capital;
            }
            else
            {
                var next = Pick(rng, NanoFacts.All);
                followUp = Pick(rng, next.Questions);
                answer = next.Answer;
            }
            draft.Add(followUp, answer, WordingKey("facts", draft.System, followUp));
        }
        return draft;
    }

    // ---- system prompt ----------------------------------------------------------------------------------------

    /// <summary>
    /// A question from another skill asked under a rule. Computed questions keep their problem key as well as the
    /// wording key, so a held-out sum is not answered in training under a system prompt either.
    /// </summary>
    static (NanoQuestion Question, string[] Keys) RuledQuestion(DeterministicRandom rng, string system, NanoSystemRule rule)
    {
        while (true)
        {
            NanoQuestion plain;
            bool computed = true;
            switch (rng.Next(4))
            {
                case 0:
                    plain = ArithmeticQuestion(rng);
                    break;
                case 1:
                    plain = WordQuestion(rng, out _, out _);
                    break;
                case 2:
                    var conversion = Pick(rng, NanoUnits.Conversions);
                    plain = ConversionQuestion(rng, conversion, ConvertibleValue(rng, conversion));
                    break;
                default:
                    var fact = Pick(rng, NanoFacts.All);
                    plain = new(Pick(rng, fact.Questions), fact.Answer, "");
                    computed = false;
                    break;
            }
            // "Make this word lowercase" under "Answer in uppercase" would ask for two contradictory things.
            if (rule is NanoSystemRule.Uppercase or NanoSystemRule.Lowercase && plain.Key.StartsWith("words:upper:", StringComparison.Ordinal))
                continue;
            if (rule is NanoSystemRule.Uppercase or NanoSystemRule.Lowercase && plain.Key.StartsWith("words:lower:", StringComparison.Ordinal))
                continue;
            string ruled = NanoSystemRules.Apply(rule, plain.Answer);
            // Casing rules are only taught where they change something, or "answer in uppercase" would look like a no-op.
            if (ruled == plain.Answer)
                continue;
            string wordingKey = WordingKey("system", system, plain.User);
            return (plain with { Answer = ruled }, computed ? [wordingKey, plain.Key] : [wordingKey]);
        }
    }

    static NanoDraft SystemPrompt(DeterministicRandom rng, int turns)
    {
        var (rule, prompts) = Pick(rng, NanoSystemRules.Prompts);
        var draft = new NanoDraft(Pick(rng, prompts));
        while (draft.Turns.Count < turns)
        {
            var (question, keys) = RuledQuestion(rng, draft.System!, rule);
            draft.Add(question.User, question.Answer, keys);
        }
        return draft;
    }

    // ---- identity ---------------------------------------------------------------------------------------------

    static (string User, string Reply) GreetingTurn(DeterministicRandom rng)
    {
        string greeting = Pick(rng, NanoIdentity.Greetings);
        if (rng.Next(2) == 0)
            return (greeting + Pick(rng, ["", "!", "."]), NanoIdentity.Greeting);
        string name = Pick(rng, NanoWords.PeopleNames);
        return (Pick(rng, [$"{greeting}, I am {name}.", $"{greeting}! My name is {name}.", $"{greeting}, I'm {name}."]), NanoIdentity.GreetingFor(name));
    }

    static (string User, string Reply) IntentTurn(DeterministicRandom rng, bool closing)
    {
        var intents = NanoIdentity.Intents.Where(i => closing == (i.Reply is NanoIdentity.Welcome or NanoIdentity.Goodbye)).ToList();
        var (questions, reply) = Pick(rng, intents);
        string question = Pick(rng, questions);
        if (rng.Next(4) == 0)
            question = char.ToLowerInvariant(question[0]) + question[1..];
        return (question, reply);
    }

    static NanoDraft Identity(DeterministicRandom rng, int turns)
    {
        var draft = new NanoDraft(PlainSystem(rng));
        var opening = turns > 1 || rng.Next(5) < 2 ? GreetingTurn(rng) : IntentTurn(rng, closing: rng.Next(4) == 0);
        draft.Add(opening.User, opening.Reply, WordingKey("identity", draft.System, opening.User));
        while (draft.Turns.Count < turns)
        {
            var turn = IntentTurn(rng, closing: draft.Turns.Count == 2);
            draft.Add(turn.User, turn.Reply, WordingKey("identity", draft.System, turn.User));
        }
        return draft;
    }

    // ---- command help -----------------------------------------------------------------------------------------

    static NanoDraft CommandHelp(DeterministicRandom rng, int turns)
    {
        var draft = new NanoDraft(PlainSystem(rng));
        var topic = Pick(rng, NanoCommandHelp.Topics);
        string user = WithPrefix(Pick(rng, HelpPrefixes), Pick(rng, topic.Questions));
        draft.Add(user, topic.Command, WordingKey("help", draft.System, user));
        while (draft.Turns.Count < turns)
        {
            var followUps = NanoCommandHelp.FollowUps.Where(f => f.After == topic.Id).ToList();
            string followUp;
            if (followUps.Count > 0 && rng.Next(3) > 0)
            {
                var chosen = Pick(rng, followUps);
                followUp = Pick(rng, chosen.Questions);
                topic = NanoCommandHelp.Topic(chosen.Then);
            }
            else
            {
                topic = Pick(rng, NanoCommandHelp.Topics);
                followUp = Pick(rng, topic.Questions);
            }
            draft.Add(followUp, topic.Command, WordingKey("help", draft.System, followUp));
        }
        return draft;
    }
}
