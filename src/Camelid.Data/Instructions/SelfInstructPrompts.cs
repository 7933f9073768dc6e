using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.Data.Instructions;

/// <summary>
/// The prompts of Self-Instruct's pipeline (Wang et al. 2023, yizhongw/self-instruct), in its formats:
/// stage 1 lists 8 instructions ("1. …" to "8. …") and ends with "9." for the teacher to continue; stage 2 asks
/// "Is it classification?" after few-shot "Task: …" examples; stage 3 asks for instances, output-first for
/// classification tasks ("Class label: …" then the input, so every label gets an input) and input-first for
/// the rest ("Example 1", the input fields, "Output: …"). The few-shot examples here are Camelid's own.
/// </summary>
public static partial class SelfInstructPrompts
{
    public const int BootstrapMaxTokens = 1024;
    public const double BootstrapTemperature = 0.7;
    public const double BootstrapTopP = 0.5;
    public const double BootstrapPresencePenalty = 2;
    public const int ClassificationMaxTokens = 3;
    public const int InstancesMaxTokensForClassification = 300;
    public const int InstancesMaxTokens = 350;
    public const double InstancesPresencePenalty = 1.5;

    /// <summary>The original stop sequences; chat models put blank lines between items, so "\n\n" is only used with plain completions.</summary>
    public static IReadOnlyList<string> BootstrapStop(bool chat) => chat ? ["\n16", "16.", "16 ."] : ["\n\n", "\n16", "16.", "16 ."];

    public static readonly IReadOnlyList<string> ClassificationStop = ["\n", "Task"];

    public static IReadOnlyList<string> InstancesStop(int maxInstances) => [$"Example {maxInstances + 1}", "Task:"];

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>Stage 1: "Come up with a series of tasks:", the numbered examples, and the next number.</summary>
    public static string Bootstrap(IReadOnlyList<string> instructions)
    {
        var prompt = new StringBuilder("Come up with a series of tasks:\n");
        for (int i = 0; i < instructions.Count; i++)
            prompt.Append($"{i + 1}. {Whitespace().Replace(instructions[i], " ").Trim().TrimEnd(':')}\n");
        prompt.Append($"{instructions.Count + 1}.");
        return prompt.ToString();
    }

    /// <summary>Stage 2: is the task a classification task (finite output labels)?</summary>
    public static string Classification(string instruction) =>
        ClassificationTemplate + " " + instruction.Trim() + "\n" + "Is it classification?";

    /// <summary>Stage 3: instances for the task, output-first for classification tasks, input-first for the rest.</summary>
    public static string Instances(string instruction, bool isClassification) =>
        (isClassification ? OutputFirstTemplate : InputFirstTemplate) + " " + instruction.Trim() + "\n";

    public const string ClassificationTemplate =
        """
        Can the following task be regarded as a classification task with finite output labels?

        Task: Given a product review, tell whether the reviewer would buy the product again.
        Is it classification? Yes

        Task: Suggest three names for a bakery that sells only bread made with local flour.
        Is it classification? No

        Task: Decide whether the given argument is circular.
        Is it classification? Yes

        Task: Summarize the paragraph below in one sentence.
        Is it classification? No

        Task: Label the email as urgent or not urgent.
        Is it classification? Yes

        Task: Translate the sentence into French.
        Is it classification? No

        Task: Given a math word problem, say whether it can be solved with the information given.
        Is it classification? Yes

        Task: Explain how a refrigerator keeps food cold.
        Is it classification? No

        Task: Pick the word that does not belong with the others in the list.
        Is it classification? Yes

        Task: Write a haiku about the first snow of winter.
        Is it classification? No

        Task: Identify the language of the sentence. Possible answers: English, Spanish, German, French.
        Is it classification? Yes

        Task: Rewrite the sentence in the passive voice.
        Is it classification? No

        Task:
        """;

    public const string OutputFirstTemplate =
        """
        Given the classification task definition and the class labels, generate an input that corresponds to each of the class labels. If the task doesn't require input, just generate possible class labels.

        Task: Decide whether the movie review is positive or negative.
        Class label: Positive
        Review: The pacing drags in the middle, but the final act is so moving that I left the cinema smiling.
        Class label: Negative
        Review: Two hours of loud explosions and a plot that makes no sense. I want my evening back.

        Task: Tell whether the given number is prime.
        Class label: Prime
        Number: 97
        Class label: Not prime
        Number: 91

        Task: Classify the customer message as a complaint, a question or praise.
        Class label: Complaint
        Message: My order arrived three days late and the box was crushed.
        Class label: Question
        Message: Do you ship to Norway, and how long does it usually take?
        Class label: Praise
        Message: The support agent fixed my problem in five minutes. Thank you!

        Task: Which planet in our solar system is the largest?
        Class label: Jupiter

        Task: Does the second sentence follow from the first? Answer "entailment", "contradiction" or "neutral".
        Class label: Entailment
        Sentence 1: All the guests at the party were wearing hats.
        Sentence 2: Some guests wore hats.
        Class label: Contradiction
        Sentence 1: The shop closes at six every day.
        Sentence 2: The shop stays open until nine on weekdays.
        Class label: Neutral
        Sentence 1: Maria bought a new bicycle.
        Sentence 2: Maria rides to work every day.

        Task:
        """;

    public const string InputFirstTemplate =
        """
        Come up with examples for the following tasks. Try to generate multiple examples when possible. If the task doesn't require additional input, you can generate the output directly.

        Task: Name three ways to save water at home.
        Output:
        - Take shorter showers.
        - Fix dripping taps.
        - Run the dishwasher only when it is full.

        Task: Convert the temperature from Fahrenheit to Celsius.
        Example 1
        Temperature: 212°F
        Output: 100°C
        Example 2
        Temperature: 50°F
        Output: 10°C

        Task: Correct the grammar of the sentence.
        Example 1
        Sentence: She don't like the new teacher, and neither do her brother.
        Output: She doesn't like the new teacher, and neither does her brother.
        Example 2
        Sentence: There is many reasons to visit the museum.
        Output: There are many reasons to visit the museum.

        Task: Write a Python function that returns the factorial of n.
        Output:
        def factorial(n):
            result = 1
            for i in range(2, n + 1):
                result *= i
            return result

        Task: Find the average of the numbers in the list.
        Example 1
        List: 4, 8, 15, 16, 23, 42
        Output: 18
        Example 2
        List: 10, 20
        Output: 15

        Task:
        """;
}
