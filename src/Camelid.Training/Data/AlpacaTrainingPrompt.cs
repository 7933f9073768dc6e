using Camelid.Data.Formats;

namespace Camelid.Training.Data;

/// <summary>
/// Stanford Alpaca's fine-tuning format (tatsu-lab/stanford_alpaca train.py): the prompt is PROMPT_DICT's
/// "prompt_input" when the record's input is not "" and "prompt_no_input" otherwise, both ending "### Response:";
/// the target is the output followed by EOS; the loss is taken on the target only.
///
/// Stanford builds the text as the string source + target and tokenizes it whole. Here the prompt and the response
/// are encoded as separate spans (<see cref="SpanTokenizer"/>): BOS, the prompt (not trained), then the output as a
/// continuation of the prompt, then EOS (both trained). The output gets no SentencePiece dummy-prefix space of its
/// own: "### Response:" is followed by exactly the output's text, as in Stanford's concatenation (their outputs start
/// without a space, so the first answer token is e.g. "The" rather than "▁The"). Generation from the same prompt
/// then continues right after the colon, as the model was trained.
/// </summary>
public static class AlpacaTrainingPrompt
{
    public const string WithInputPreamble =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.";

    public const string NoInputPreamble =
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

    /// <summary>The prompt for an instruction and its input ("" for none), up to and including "### Response:".</summary>
    public static string Format(string instruction, string input) =>
        input.Length == 0
            ? $"{NoInputPreamble}\n\n### Instruction:\n{instruction}\n\n### Response:"
            : $"{WithInputPreamble}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";

    /// <summary>
    /// BOS + prompt (not trained) + output + EOS (trained). A quality tag (Koala's conditional training) is put in
    /// front of the instruction, separated by a space.
    /// </summary>
    internal static (int[] Tokens, bool[] Trained) Encode(SpanTokenizer spans, AlpacaRecord record, string? qualityTag)
    {
        if (spans.Tokenizer.EosId < 0)
            throw new ArgumentException("Alpaca responses end with EOS, and this tokenizer has no EOS token");
        var example = new ExampleBuilder(spans);
        if (spans.AddsBos)
            example.Token(spans.Tokenizer.BosId, trained: false);
        string instruction = qualityTag == null ? record.Instruction : qualityTag + " " + record.Instruction;
        example.Text(Format(instruction, record.Input), trained: false)
               .Text(record.Output, trained: true)
               .Token(spans.Tokenizer.EosId, trained: true);
        return example.Build();
    }
}
