using System.Text.RegularExpressions;
using Camelid.Data.Nano;

namespace Camelid.Data.Tests.Nano;

/// <summary>
/// Works out the right answer to every turn from the text of the conversation alone, independently of the generator:
/// it reads the numbers, lists and units in the words and computes the answer itself; facts, identity and command help
/// are looked up by question text. Returns the expected replies, turn by turn.
/// </summary>
static partial class NanoAnswerOracle
{
    public static List<string> Answers(NanoExample example)
    {
        string? system = example.Messages.FirstOrDefault(m => m.Role == "system").Content;
        var users = example.Messages.Where(m => m.Role == "user").Select(m => m.Content).ToList();
        return example.Skill switch
        {
            NanoSkill.Arithmetic => Arithmetic(users),
            NanoSkill.WordsAndLists => Words(users),
            NanoSkill.UnitConversion => Units(users),
            NanoSkill.Facts => Facts(users),
            NanoSkill.SystemPrompt => [.. users.Select(u => ApplyRule(system!, PlainAnswer(u)))],
            NanoSkill.Identity => [.. users.Select(Identity)],
            NanoSkill.CommandHelp => Help(users),
            _ => throw new ArgumentOutOfRangeException(nameof(example)),
        };
    }

    // ---- arithmetic: operands must be two-digit for + and -, one-digit for * ----

    [GeneratedRegex(@"\d+")] private static partial Regex Number();

    static List<string> Arithmetic(List<string> users)
    {
        var numbers = Number().Matches(users[0]).Select(m => int.Parse(m.Value)).ToList();
        Assert.Equal(2, numbers.Count);
        string q = users[0];
        int value;
        if (q.Contains('*') || q.Contains("times") || q.Contains("ultipl"))
        {
            Assert.All(numbers, n => Assert.InRange(n, 1, 9));
            value = numbers[0] * numbers[1];
        }
        else
        {
            Assert.All(numbers, n => Assert.InRange(n, 10, 99));
            if (q.StartsWith("Subtract") || q.StartsWith("Take"))
                value = numbers[1] - numbers[0];        // "Subtract 25 from 47", "Take 25 away from 47"
            else if (q.Contains('-') || q.Contains("minus"))
                value = numbers[0] - numbers[1];
            else
                value = numbers[0] + numbers[1];
            Assert.True(value >= 0, q);
        }
        var answers = new List<string> { value.ToString() };
        foreach (string followUp in users.Skip(1))
        {
            int k = int.Parse(Number().Match(followUp).Value);
            value = followUp.Contains("add", StringComparison.OrdinalIgnoreCase) ? value + k : value - k;
            Assert.True(value >= 0, followUp);
            answers.Add(value.ToString());
        }
        return answers;
    }

    // ---- words and lists ----

    static List<string> ListIn(string question)
    {
        string items = question[(question.IndexOf(':') + 1)..].Trim().TrimEnd('?');
        return [.. items.Split(", ")];
    }

    static string? ListTask(string q, List<string> list, out List<string>? result)
    {
        result = null;
        if (q.Contains("everse") || q.Contains("backwards"))
        {
            result = [.. list.AsEnumerable().Reverse()];
            return string.Join(", ", result);
        }
        if (q.Contains("lphabetical") || q.Contains("A to Z"))
        {
            result = [.. list.OrderBy(w => w, StringComparer.Ordinal)];
            return string.Join(", ", result);
        }
        if (q.Contains("How many") || q.Contains("Count"))
            return list.Count.ToString();
        if (q.Contains("first"))
            return list[0];
        if (q.Contains("last"))
            return list[^1];
        return null;
    }

    static string WordCase(string q, string word)
    {
        if (q.Contains("uppercase") || q.Contains("capital letters"))
            return word.ToUpperInvariant();
        Assert.True(q.Contains("lowercase") || q.Contains("small letters"), q);
        return word.ToLowerInvariant();
    }

    [GeneratedRegex(@"^(?:Write (\w+) in \w+\.|Make this word \w+: (\w+)|What is (\w+) in (?:capital|small) letters\?)$")]
    private static partial Regex WordQuestion();

    static List<string> Words(List<string> users)
    {
        var answers = new List<string>();
        var word = WordQuestion().Match(users[0]);
        if (word.Success)
        {
            string current = word.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value;
            foreach (string q in users)
                answers.Add(current = WordCase(q, current));
            return answers;
        }
        var list = ListIn(users[0]);
        Assert.Equal(list.Count, list.Distinct().Count());
        Assert.InRange(list.Count, 2, 6);
        foreach (string q in users)
        {
            answers.Add(ListTask(q, list, out var result) ?? throw new Xunit.Sdk.XunitException($"no list task in \"{q}\""));
            list = result ?? list;
        }
        return answers;
    }

    // ---- unit conversion: an independent table, everything in the smallest unit ----

    static readonly Dictionary<string, (string Symbol, int InSmallest)> UnitWords = new()
    {
        ["km"] = ("km", 100_000), ["kilometre"] = ("km", 100_000), ["kilometres"] = ("km", 100_000),
        ["m"] = ("m", 100), ["metre"] = ("m", 100), ["metres"] = ("m", 100),
        ["cm"] = ("cm", 1), ["centimetre"] = ("cm", 1), ["centimetres"] = ("cm", 1),
        ["kg"] = ("kg", 1000), ["kilogram"] = ("kg", 1000), ["kilograms"] = ("kg", 1000),
        ["g"] = ("g", 1), ["gram"] = ("g", 1), ["grams"] = ("g", 1),
        ["h"] = ("h", 3600), ["hour"] = ("h", 3600), ["hours"] = ("h", 3600),
        ["min"] = ("min", 60), ["minute"] = ("min", 60), ["minutes"] = ("min", 60),
        ["s"] = ("s", 1), ["second"] = ("s", 1), ["seconds"] = ("s", 1),
    };

    [GeneratedRegex(@"(\d+) ([a-z]+)")] private static partial Regex Amount();
    [GeneratedRegex(@"(?:How many ([a-z]+) |in ([a-z]+)\?| to ([a-z]+)\.)")] private static partial Regex Target();

    static List<string> Units(List<string> users)
    {
        var target = Target().Match(users[0]);
        var to = UnitWords[target.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value];
        var answers = new List<string>();
        foreach (string q in users)
        {
            var amount = Amount().Match(q);
            var from = UnitWords[amount.Groups[2].Value];
            long inSmallest = long.Parse(amount.Groups[1].Value) * from.InSmallest;
            Assert.True(inSmallest % to.InSmallest == 0, $"{q}: not a whole number of {to.Symbol}");
            Assert.NotEqual(from.Symbol, to.Symbol);
            answers.Add($"{inSmallest / to.InSmallest} {to.Symbol}");
        }
        return answers;
    }

    // ---- facts, identity and help: looked up by question ----

    static readonly string[] Prefixes = ["Quick question: ", "Tell me, ", "I wonder, ", "Please answer: ", "In Camelid, ", "With camelid, ", "Please tell me: ", "Hey, ", "I want to know: "];

    static string WithoutPrefix(string q)
    {
        foreach (string prefix in Prefixes)
            if (q.StartsWith(prefix, StringComparison.Ordinal))
                return char.ToUpperInvariant(q[prefix.Length]) + q[(prefix.Length + 1)..];
        return q;
    }

    static string FactAnswer(string q) => NanoFacts.All.Single(f => f.Questions.Contains(WithoutPrefix(q))).Answer;

    [GeneratedRegex(@"^(?:And of|What about) (.+)\?$")] private static partial Regex CapitalFollowUp();

    static List<string> Facts(List<string> users) =>
        [.. users.Select(q => CapitalFollowUp().Match(q) is { Success: true } m
            ? NanoFacts.Capitals.Single(c => c.Country == m.Groups[1].Value).Capital
            : FactAnswer(q))];

    static string PlainAnswer(string q)
    {
        if (Amount().Match(q) is { Success: true } amount && UnitWords.ContainsKey(amount.Groups[2].Value))
            return Units([q])[0];
        if (Number().IsMatch(q))
            return Arithmetic([q])[0];
        if (WordQuestion().IsMatch(q) || q.Contains(':'))
            return Words([q])[0];
        return FactAnswer(q);
    }

    static string ApplyRule(string system, string answer)
    {
        if (system.Contains("uppercase") || system.Contains("capital letters"))
            return answer.ToUpperInvariant();
        if (system.Contains("lowercase") || system.Contains("small letters"))
            return answer.ToLowerInvariant();
        if (system.Contains("'Sure:'"))
            return "Sure: " + answer;
        if (system.Contains("'Answer:'"))
            return "Answer: " + answer;
        Assert.True(system.Contains("exclamation mark") || system.Contains("'!'"), system);
        return answer + "!";
    }

    [GeneratedRegex(@"(?:I am|I'm|My name is) ([A-Z][a-z]+)\.$")] private static partial Regex IntroducedName();

    static string Identity(string q)
    {
        string lower = q.ToLowerInvariant();
        if (IntroducedName().Match(q) is { Success: true } name)
            return $"Hello, {name.Groups[1].Value}! How can I help you today?";
        if (NanoIdentity.Greetings.Any(g => lower.TrimEnd('!', '.') == g.ToLowerInvariant()))
            return "Hello! How can I help you today?";
        if (lower.Contains("thank"))
            return "You're welcome!";
        if (lower.Contains("bye") || lower.Contains("see you"))
            return "Goodbye! Have a nice day.";
        if (lower.Contains("name") || lower.Contains("call you"))
            return "My name is Camelid-Nano.";
        if (lower.Contains("made") || lower.Contains("created") || lower.Contains("trained") || lower.Contains("come from"))
            return "I was made by Camelid's own training pipeline, from data it generated itself.";
        if (lower.Contains("can you") || lower.Contains("good at") || lower.Contains("how to do"))
            return "I can do small sums, work with words and lists, convert units, answer simple facts and explain Camelid's commands.";
        Assert.True(lower.Contains("who are you") || lower.Contains("what are you") || lower.Contains("yourself") || lower.Contains("chatbot"), q);
        return "I am Camelid-Nano, a small language model made by Camelid's own training pipeline.";
    }

    static List<string> Help(List<string> users)
    {
        var answers = new List<string>();
        NanoHelpTopic? topic = null;
        foreach (string q in users)
        {
            var followUp = topic == null ? default : NanoCommandHelp.FollowUps.FirstOrDefault(f => f.After == topic.Id && f.Questions.Contains(q));
            topic = followUp.Then != null
                ? NanoCommandHelp.Topic(followUp.Then)
                : NanoCommandHelp.Topics.Single(t => t.Questions.Contains(WithoutPrefix(q)));
            answers.Add(topic.Command);
        }
        return answers;
    }
}
