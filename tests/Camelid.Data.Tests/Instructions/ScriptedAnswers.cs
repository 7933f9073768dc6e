using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.Tests.Teachers;

public sealed record ScriptedAnswer(string Text, string FinishReason);

/// <summary>
/// What the scripted teacher says: a pure function of the prompt. For Alpaca prompts, 5–10 numbered
/// "Instruction/Input/Output" tasks in one of four layouts (continuing the prompt, restating the label, markdown
/// bold, a chat preamble without "###"), mostly good tasks but also near-copies of the prompt's examples,
/// forbidden words, "Write a program", leading punctuation, non-ASCII starts, too short, too long, repeats,
/// items without an output, and answers cut at max_tokens. For Self-Instruct prompts: numbered instruction
/// lists, Yes/No, and instances with the stage-4 problems (conflicts, duplicates, input = output, …).
/// </summary>
public static partial class ScriptedAnswers
{
    static readonly string[] Templates =
    [
        "Explain why {0} matters to {1}.",
        "Summarize the main arguments about {0} for {1}.",
        "Suggest three creative ways to teach {0} to {1}.",
        "What are the most common misconceptions about {0} among {1}?",
        "Compose a short persuasive paragraph about {0} aimed at {1}.",
        "Classify the following statement about {0} as fact or opinion.",
        "Rewrite the given sentence about {0} so that {1} can understand it.",
        "List the pros and cons of {0} from the point of view of {1}.",
        "Give a step-by-step plan for {1} who want to learn about {0}.",
        "Decide whether the given claim about {0} is plausible, and explain briefly.",
        "Invent a catchy slogan promoting {0} to {1}.",
        "Compare {0} with its closest alternative for {1}.",
        "How would you describe {0} to {1} in two sentences?",
        "Identify the tone of the following review of {0}.",
        "Translate the key idea behind {0} into a simple analogy for {1}.",
        "Propose a fair debate question about {0} for {1}.",
        "Estimate how much time {1} need to get started with {0}, and justify it.",
        "Correct the grammar in the following note about {0}.",
    ];

    // Topics are a qualifier and a subject: ~1,200 of them, so a long run does not run out of new tasks.
    static readonly string[] Qualifiers =
    [
        "urban", "community", "historical", "modern", "coastal", "digital", "seasonal", "low-cost", "traditional",
        "solar-powered", "volunteer", "indoor", "mountain", "student-run", "nighttime", "family-owned", "rural", "public",
        "handmade", "electric", "shared", "competitive", "organic", "experimental", "medieval", "underground",
        "floating", "miniature", "wireless", "open-air", "regional", "accessible",
    ];

    static readonly string[] Subjects =
    [
        "beekeeping", "libraries", "bicycles", "gardens", "markets", "radio stations", "bakeries", "museums", "ferries",
        "vineyards", "observatories", "choirs", "bridges", "greenhouses", "chess clubs", "newspapers", "fisheries",
        "theaters", "parks", "kitchens", "workshops", "railways", "clinics", "festivals", "orchards", "schools",
        "weather stations", "recycling centers", "art studios", "sports leagues", "podcasts", "hostels", "ski resorts",
        "tea houses", "food trucks", "zoos", "lighthouses",
    ];

    static string Topic(Random random) => $"{Qualifiers[random.Next(Qualifiers.Length)]} {Subjects[random.Next(Subjects.Length)]}";

    static readonly string[] Audiences =
    [
        "high school students", "retired engineers", "small business owners", "new parents", "city planners",
        "first-year nurses", "amateur gardeners", "software interns", "museum visitors", "rural farmers",
        "college athletes", "hotel managers", "science teachers", "night-shift workers", "young voters",
    ];

    static readonly string[] Sentences =
    [
        "It saves time and money when done with care.",
        "Most experts agree the benefits outweigh the costs.",
        "The results depend heavily on local conditions.",
        "Start small, measure progress, and adjust every week.",
        "Many people overlook the long-term effects.",
        "A simple checklist avoids most beginner mistakes.",
        "The idea is older than it looks and still useful today.",
        "Clear goals make the whole process easier to follow.",
    ];

    [GeneratedRegex(@"^\d+\. Instruction: (.*)$", RegexOptions.Multiline)]
    private static partial Regex ExampleInstruction();

    [GeneratedRegex(@"^\d+\. (.*)$", RegexOptions.Multiline)]
    private static partial Regex ListedInstruction();

    public static ScriptedAnswer Answer(string prompt)
    {
        var random = new Random((int)(ScriptedTeacher.Hash(prompt) & 0x7fffffff));
        if (prompt.StartsWith("Come up with a series of tasks:", StringComparison.Ordinal))
            return Bootstrap(prompt, random);
        if (prompt.EndsWith("Is it classification?", StringComparison.Ordinal))
            return Classification(LastTask(prompt), random);
        if (prompt.StartsWith("Given the classification task definition", StringComparison.Ordinal))
            return ClassificationInstances(LastTask(prompt), random);
        if (prompt.StartsWith("Come up with examples for the following tasks", StringComparison.Ordinal))
            return GenerationInstances(LastTask(prompt), random);
        return Alpaca(prompt, random);
    }

    static string LastTask(string prompt)
    {
        int at = prompt.LastIndexOf("Task: ", StringComparison.Ordinal);
        return prompt[(at + 6)..].Split('\n')[0].Trim();
    }

    static readonly string[] Purposes =
    [
        "for a school newsletter", "before a job interview", "for a community meeting", "in a museum guide",
        "for a radio segment", "on a poster", "for a grant proposal", "in a travel blog", "for a podcast intro",
        "during a lunch break", "for a city council", "in a birthday card", "for an online course", "on a product label",
        "for a family dinner", "in a weekly report", "for a science fair", "in a cover letter", "for a town festival",
        "at a team retrospective",
    ];

    static readonly string[] Constraints =
    [
        "in under fifty words", "using a numbered list", "with one concrete example", "without any jargon",
        "in a cheerful tone", "citing two numbers", "in three short bullet points", "as a single question",
        "with a surprising ending", "in plain language", "with a short title", "in the second person",
    ];

    /// <summary>A template filled with a topic and an audience, plus a purpose and often a constraint, so that
    /// two good tasks rarely share enough words to look alike.</summary>
    static string GoodInstruction(Random random)
    {
        string sentence = string.Format(Templates[random.Next(Templates.Length)], Topic(random), Audiences[random.Next(Audiences.Length)]);
        string extra = Purposes[random.Next(Purposes.Length)] + (random.Next(10) < 6 ? ", " + Constraints[random.Next(Constraints.Length)] : "");
        return $"{sentence[..^1]} {extra}{sentence[^1]}";
    }

    /// <summary>An instruction: mostly a good one, sometimes one that a filter or the ROUGE-L check must catch.</summary>
    static string Instruction(Random random, IReadOnlyList<string> examples, List<string> earlier)
    {
        int roll = random.Next(100);
        string topic = Topic(random);
        return roll switch
        {
            < 58 => GoodInstruction(random),
            < 66 when examples.Count > 0 => NearCopy(examples[random.Next(examples.Count)], random),
            < 71 => $"Draw a picture of {topic} and describe the colors you used.",
            < 74 => $"Describe how a map of {topic} would help a tourist find their way.",
            < 78 => $"Write a program that tracks {topic} over a whole year.",
            < 82 => $"- List five surprising facts about {topic}.",
            < 86 => $"¿Cómo explicarías {topic} a un niño de diez años?",
            < 90 => "Define " + topic.Split(' ')[^1] + ".",
            < 93 => "Write a detailed essay about " + topic + " covering " + string.Join(", ", Enumerable.Range(0, 80).Select(i => $"aspect {i}")) + ".",
            < 97 when earlier.Count > 0 => earlier[random.Next(earlier.Count)],
            _ => GoodInstruction(random),
        };
    }

    /// <summary>The example with one word changed: ROUGE-L against it stays above 0.7.</summary>
    static string NearCopy(string example, Random random)
    {
        var words = example.Split(' ');
        if (words.Length < 6)
            return example + " Please be brief.";
        words[random.Next(1, words.Length)] = "really";
        return string.Join(' ', words);
    }

    static (string Input, string Output) InputOutput(Random random, string instruction)
    {
        string input = random.Next(10) < 4 ? "<noinput>" : $"{Sentences[random.Next(Sentences.Length)]} {Sentences[random.Next(Sentences.Length)]}";
        string output = $"{Sentences[random.Next(Sentences.Length)]} In short: {instruction.Split(' ')[^1].TrimEnd('.', '?')} needs attention.";
        return (input, output);
    }

    static ScriptedAnswer Alpaca(string prompt, Random random)
    {
        var examples = ExampleInstruction().Matches(prompt).Select(m => m.Groups[1].Value).ToList();
        int first = examples.Count + 1, count = random.Next(5, 11), layout = random.Next(4);
        var text = new StringBuilder();
        if (layout == 3)
            text.Append("Sure! Here are some more tasks:\n\n");
        var earlier = new List<string>();
        for (int i = 0; i < count; i++)
        {
            int n = first + i;
            string instruction = Instruction(random, examples, earlier);
            earlier.Add(instruction);
            var (input, output) = InputOutput(random, instruction);
            bool noOutput = random.Next(100) < 4;
            if (i == 0 && layout == 0)
                text.Append(' ').Append(instruction).Append('\n');                  // continues "4. Instruction:"
            else if (layout == 2)
                text.Append($"**{n}. Instruction:** {instruction}\n");
            else
                text.Append($"{n}. Instruction: {instruction}\n");
            text.Append(layout == 2 ? $"**{n}. Input:**\n{input}\n" : $"{n}. Input:\n{input}\n");
            if (!noOutput)
                text.Append(layout == 2 ? $"**{n}. Output:**\n{output}\n" : $"{n}. Output:\n{output}\n");
            if (layout != 3 && i < count - 1)
                text.Append("###\n");
            else if (layout == 3)
                text.Append('\n');
        }
        if (random.Next(100) < 15)
        {
            string cut = text.ToString().TrimEnd();
            return new ScriptedAnswer(cut[..(cut.Length - Math.Min(12, cut.Length / 4))], "length");
        }
        return new ScriptedAnswer(text.ToString().TrimEnd(), "stop");
    }

    static ScriptedAnswer Bootstrap(string prompt, Random random)
    {
        var examples = ListedInstruction().Matches(prompt).Select(m => m.Groups[1].Value).ToList();
        int first = examples.Count + 1, count = random.Next(4, 8), layout = random.Next(3);
        var text = new StringBuilder();
        if (layout == 2)
            text.Append("Here are some more tasks:\n");
        var earlier = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string instruction = Instruction(random, examples, earlier);
            earlier.Add(instruction);
            if (i == 0 && layout == 0)
                text.Append(' ').Append(instruction);                                // continues "9."
            else
                text.Append(i == 0 && layout == 1 ? "" : "\n").Append($"{first + i}. {instruction}");
        }
        return random.Next(100) < 10 ? new ScriptedAnswer(text.ToString()[..^5], "length") : new ScriptedAnswer(text.ToString(), "stop");
    }

    static ScriptedAnswer Classification(string task, Random random)
    {
        bool yes = task.StartsWith("Classify", StringComparison.Ordinal) || task.StartsWith("Decide", StringComparison.Ordinal)
                   || task.StartsWith("Identify", StringComparison.Ordinal);
        string[] spellings = yes ? [" Yes", "Yes", "Yes."] : [" No", "No", "No."];
        return new ScriptedAnswer(spellings[random.Next(spellings.Length)], "stop");
    }

    static ScriptedAnswer ClassificationInstances(string task, Random random)
    {
        var text = new StringBuilder();
        string[] labels = task.StartsWith("Identify", StringComparison.Ordinal) ? ["Positive", "Negative", "Neutral"] : ["Fact", "Opinion"];
        foreach (var label in labels)
            text.Append($"Class label: {label}\nStatement: {Sentences[random.Next(Sentences.Length)]}\n");
        if (random.Next(4) == 0)
            text.Append($"Class label: {labels[0]}\nStatement:"); // unfinished: ends with ':'
        return new ScriptedAnswer(text.ToString().TrimEnd(), random.Next(10) == 0 ? "length" : "stop");
    }

    static ScriptedAnswer GenerationInstances(string task, Random random)
    {
        int roll = random.Next(10);
        if (roll == 0)
            return new ScriptedAnswer("I am not sure what you mean.", "stop");          // no instances at all
        if (roll == 1)
            return new ScriptedAnswer($"Output: {Sentences[random.Next(Sentences.Length)]}", "stop");
        var text = new StringBuilder();
        int count = random.Next(2, 8);
        for (int i = 0; i < count; i++)
        {
            string input = $"Topic: {Topic(random)}";
            string output = Sentences[random.Next(Sentences.Length)];
            int problem = random.Next(20);
            if (problem == 0) output = input;                                             // input = output
            else if (problem == 1) output = "";                                           // empty output
            else if (problem == 2) output = "The answer is:";                             // ends with ':'
            text.Append($"Example {i + 1}\n{input}\nOutput: {output}\n");
            if (problem == 3)
                text.Append($"Example {i + 1}\n{input}\nOutput: {output}\n");            // duplicate
            if (problem == 4 && i > 0)
                text.Append($"Example {i + 1}\n{input}\nOutput: Something else entirely.\n"); // conflicting
        }
        return new ScriptedAnswer(text.ToString().TrimEnd(), random.Next(10) == 0 ? "length" : "stop");
    }
}
