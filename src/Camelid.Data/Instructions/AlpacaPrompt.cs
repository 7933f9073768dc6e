using System.Text;
using System.Text.RegularExpressions;

namespace Camelid.Data.Instructions;

/// <summary>
/// The prompt of Alpaca's generate_instruction.py: a list of requirements ending "List of 20 tasks:", then the
/// in-context tasks as
/// <code>
/// ###
/// 1. Instruction: …
/// 1. Input:
/// … (or &lt;noinput&gt;)
/// 1. Output:
/// …
/// </code>
/// and finally "###\n4. Instruction:" for the teacher to continue. The requirements text is a file
/// (<c>--prompt-file</c>, e.g. Alpaca's prompt.txt); <see cref="DefaultTemplate"/> is Camelid's own wording of them.
/// </summary>
public static partial class AlpacaPrompt
{
    public const string NoInput = "<noinput>";

    /// <summary>Stop sequences Alpaca used: the model should stop before a 21st task.</summary>
    public static readonly IReadOnlyList<string> Stop = ["\n20", "20."];

    /// <summary>Alpaca's max_tokens: "hard-code to maximize the length".</summary>
    public const int MaxTokens = 3072;

    public const string DefaultTemplate =
        """
        Write 20 new, varied tasks that a language model could be asked to do. Each task has an instruction, an input and an output.

        Guidelines:
        1. Use a different verb for each instruction where you can, and mix questions with imperative sentences.
        2. Cover many kinds of tasks: open-ended writing, classification, editing, rewriting, extraction, reasoning, brainstorming and more.
        3. The model can only read and write text: do not ask for pictures, sound, or actions in the world such as setting a reminder.
        4. Write in English, one or two sentences per instruction.
        5. When the instruction needs an input, give a concrete, realistic one of at most about 100 words, not a placeholder. When it needs none, write "<noinput>" as the input.
        6. The output is a good answer to the instruction and its input, in fewer than 100 words.

        List of 20 tasks:
        """;

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>The prompt for these in-context examples (their first instance each).</summary>
    public static string Encode(string template, IReadOnlyList<SeedTask> examples)
    {
        var prompt = new StringBuilder(template).Append('\n');
        for (int i = 0; i < examples.Count; i++)
        {
            var task = examples[i];
            string instruction = Whitespace().Replace(task.Instruction, " ").Trim().TrimEnd(':');
            string input = task.Instances[0].Input.Length == 0 ? NoInput : task.Instances[0].Input;
            prompt.Append("###\n")
                  .Append($"{i + 1}. Instruction: {instruction}\n")
                  .Append($"{i + 1}. Input:\n{input}\n")
                  .Append($"{i + 1}. Output:\n{task.Instances[0].Output}\n");
        }
        prompt.Append("###\n").Append($"{examples.Count + 1}. Instruction:");
        return prompt.ToString();
    }
}
