namespace Camelid.DataBenchmarks;

/// <summary>
/// Instructions shaped like Alpaca's: a task phrase ("Write a short poem about", "Compare", …), an object
/// built from a large vocabulary (about 3,500 made-up nouns and 150 adjectives, so the pool's vocabulary is as
/// large as a real one), often a context ("for …", "in …", "during …") and sometimes a constraint; 4 to about
/// 30 words, mean about 13 (alpaca_data.json's instructions average about 13 words too). One in six is a light
/// rewording of an earlier instruction (one or two words changed or dropped): what a teacher repeats and the
/// ROUGE-L filter must catch. Deterministic for a seed.
/// </summary>
static class SyntheticInstructions
{
    static readonly string[] TaskPhrases =
    [
        "Explain", "Describe", "Summarize", "Write a short poem about", "Write a story about", "Give three tips for",
        "List the benefits of", "List the drawbacks of", "Compare", "Classify", "Suggest a name for", "What is",
        "How does", "Why is", "Create a slogan for", "Generate a list of questions about", "Rewrite the paragraph about",
        "Translate the sentence about", "Identify the main idea of the text about", "Outline a plan to improve",
        "Propose a solution for", "Evaluate", "Design a lesson on", "Draft an email about", "Give an example of",
        "Predict the future of", "Brainstorm ideas for", "Estimate the cost of", "Find the error in the statement about",
        "Make a checklist for", "Write a review of", "Recommend a book about", "Tell me a fact about",
        "Decide whether this claim is true:", "Convert the recipe for", "Create a quiz about", "Analyze the tone of the article on",
        "Describe the history of", "Explain the difference between", "Write a dialogue about", "Give advice on",
        "Sort the following items related to", "Edit the sentence about", "Compose a tweet about", "Name five facts about",
        "Invent a game based on", "Plan a trip focused on", "Argue for", "Argue against", "Write a headline for",
    ];

    static readonly string[] Contexts = ["for", "in", "during", "with", "without", "among", "near", "after", "before", "across"];

    static readonly string[] Constraints =
    [
        "in two sentences", "using simple words", "in under fifty words", "as a numbered list", "with one example",
        "in a formal tone", "for a general audience", "without technical terms", "in the form of a question",
        "in three bullet points", "as a short paragraph", "with a clear conclusion",
    ];

    static readonly string[] Adjectives;
    static readonly string[] Nouns;

    static SyntheticInstructions()
    {
        var random = new Random(99);
        string[] syllables = "ba be bi bo bu ka ke ki ko ku ra re ri ro ru ta te ti to tu na ne ni no nu la le li lo lu ma me mi mo mu sa se si so su da de do pa pe po"
            .Split(' ');
        string Word(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => syllables[random.Next(syllables.Length)]));
        Adjectives = [.. Enumerable.Range(0, 150).Select(_ => Word(2) + "ic")];
        Nouns = [.. Enumerable.Range(0, 3500).Select(_ => Word(random.Next(2, 4)))];
    }

    public static List<string> Make(int count, int seed)
    {
        var random = new Random(seed);
        var made = new List<string>(count);
        for (int i = 0; i < count; i++)
            made.Add(made.Count > 10 && random.Next(6) == 0 ? Reword(made[random.Next(made.Count)], random) : Fresh(random));
        return made;
    }

    static string Fresh(Random random)
    {
        string Noun() => Nouns[random.Next(Nouns.Length)];
        string Adjective() => Adjectives[random.Next(Adjectives.Length)];
        var words = new List<string> { TaskPhrases[random.Next(TaskPhrases.Length)] };
        words.Add(random.Next(3) switch
        {
            0 => $"the {Adjective()} {Noun()}",
            1 => $"the {Noun()} of {Noun()}",
            _ => $"{Adjective()} {Noun()} and {Noun()}",
        });
        if (random.Next(10) < 7)
            words.Add($"{Contexts[random.Next(Contexts.Length)]} {(random.Next(2) == 0 ? "the" : "a")} {Adjective()} {Noun()}");
        if (random.Next(10) < 4)
            words.Add(Constraints[random.Next(Constraints.Length)]);
        if (random.Next(10) < 2)
            words.Add($"and mention the {Noun()} {Noun()}");
        return string.Join(' ', words) + (words[0].StartsWith("What", StringComparison.Ordinal) || words[0].StartsWith("How", StringComparison.Ordinal)
                                          || words[0].StartsWith("Why", StringComparison.Ordinal) ? "?" : ".");
    }

    static string Reword(string earlier, Random random)
    {
        var words = earlier.Split(' ').ToList();
        int changes = random.Next(1, 3);
        for (int c = 0; c < changes && words.Count > 4; c++)
        {
            int at = random.Next(words.Count);
            if (random.Next(2) == 0) words.RemoveAt(at);
            else words[at] = Adjectives[random.Next(Adjectives.Length)];
        }
        return string.Join(' ', words);
    }
}
