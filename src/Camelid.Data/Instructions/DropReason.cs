namespace Camelid.Data.Instructions;

/// <summary>Why a candidate did not make it into the output; the names appear in the drop report.</summary>
public static class DropReason
{
    // Parsing the teacher's answer
    public const string Unparsable = "unparsable";              // no instruction, or no output, could be found
    public const string Truncated = "truncated";                // cut by max_tokens (finish_reason "length")

    // Instruction filters (Self-Instruct's and Alpaca's post-processing)
    public const string TooShort = "too_short";                 // 3 words or fewer
    public const string TooLong = "too_long";                   // more than 150 words
    public const string ForbiddenWord = "forbidden_word";       // image, graph, file, map, draw, … (detail: the word)
    public const string WriteAProgram = "write_a_program";      // starts with "Write a program"
    public const string LeadingPunctuation = "leading_punctuation";
    public const string NonAsciiStart = "non_ascii_start";
    public const string TooSimilar = "too_similar";             // ROUGE-L above the threshold against a kept instruction
    public const string QuotaReached = "quota_reached";         // parsed after --num instructions were already kept

    // Self-Instruct's fine-tuning data preparation (stage 4), per instance
    public const string EmptyOutput = "empty_output";
    public const string InputEqualsOutput = "input_equals_output";
    public const string EndsWithColon = "ends_with_colon";      // input or output ends with ':' (an unfinished generation)
    public const string ConflictingOutputs = "conflicting_outputs"; // same input, different outputs: the task's instances all go
    public const string DuplicateInstance = "duplicate_instance";
    public const string OverInstanceLimit = "over_instance_limit";  // more than 5 instances for one task
    public const string NoInstances = "no_instances";           // a task left with no instance at all
}
