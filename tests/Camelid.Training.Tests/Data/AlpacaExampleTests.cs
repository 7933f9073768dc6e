using System.Text.Json;
using Camelid.Tests;
using Camelid.Tokenization;
using Camelid.Training.Data;
using static Camelid.Training.Tests.Data.DataTestTokenizers;

namespace Camelid.Training.Tests.Data;

/// <summary>Alpaca examples: Stanford's two prompts exactly, BOS + prompt untrained, response + EOS trained.</summary>
public class AlpacaExampleTests
{
    // tatsu-lab/stanford_alpaca train.py, PROMPT_DICT, written out literally.
    const string WithInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\nTranslate to French.\n\n### Input:\nGood morning\n\n### Response:";

    const string WithoutInput =
        "Below is an instruction that describes a task. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\nName a primary color.\n\n### Response:";

    [Fact]
    public void The_prompts_are_Stanford_Alpacas()
    {
        Assert.Equal(WithInput, AlpacaTrainingPrompt.Format("Translate to French.", "Good morning"));
        Assert.Equal(WithoutInput, AlpacaTrainingPrompt.Format("Name a primary color.", ""));
        // Stanford tests `example.get("input", "") != ""`: an input of blanks is an input.
        Assert.Contains("### Input:\n \n\n", AlpacaTrainingPrompt.Format("x", " "));
    }

    public static TheoryData<string> Tokenizers() => ["synthetic", Tok512Model, Llama2Model, Stories260KGguf];

    [SharedDataTheory(Tok512Model, Llama2Model, Stories260KGguf)]
    [MemberData(nameof(Tokenizers))]
    public void Prompt_is_untrained_and_the_response_with_EOS_is_trained(string tokenizerName)
    {
        var tokenizer = ByName(tokenizerName);
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "alpaca.json");
            File.WriteAllText(path, JsonSerializer.Serialize(new[]
            {
                new { instruction = "Translate to French.", input = "Good morning", output = "Bonjour" },
                new { instruction = "Name a primary color.", input = "", output = "Red is a primary color." },
            }));
            using var data = TrainingData.Prepare([new DataSource(path)], tokenizer, new TrainingDataOptions { MaxLength = 512 },
                                                  Path.Combine(dir, "train.tokens"));
            Assert.Equal(TrainingDataFormat.Alpaca, data.Report.Sources[0].Format);
            string[] prompts = [WithInput, WithoutInput];
            string[] outputs = ["Bonjour", "Red is a primary color."];
            for (int i = 0; i < 2; i++)
            {
                var (tokens, trained) = data.Train[i];
                int firstTrained = Array.IndexOf(trained, true);
                Assert.Equal(tokenizer.BosId, tokens[0]);
                Assert.All(trained[firstTrained..], Assert.True);
                Assert.Equal(tokenizer.EosId, tokens[^1]);
                // The response is a continuation of the prompt: no space of its own between "### Response:" and it.
                Assert.Equal(outputs[i] + tokenizer.TokenPiece(tokenizer.EosId), Text(tokenizer, tokens[firstTrained..]));
                // tok512 normalizes whitespace (remove_extra_whitespaces); the prompt here has no runs of spaces to lose.
                Assert.Equal(tokenizer.TokenPiece(tokenizer.BosId) + " " + prompts[i], Text(tokenizer, tokens[..firstTrained]));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SharedDataFact(Llama2Model)]
    public void Span_by_span_tokens_equal_Stanfords_tokenization_of_source_plus_target()
    {
        // Stanford tokenizes f"{source}{target}" whole; encoding the prompt and the response as separate spans gives the
        // same ids at this boundary ("### Response:" then a word start), checked against the LLaMA-2 tokenizer.
        var tokenizer = Shared(Llama2Model);
        var spans = new SpanTokenizer(tokenizer);
        foreach (var (instruction, input, output) in new[]
        {
            ("Give three tips for staying healthy.", "", "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well."),
            ("Classify the sentiment.", "I loved this movie!", "Positive"),
            ("Rewrite the sentence in passive voice.", "The cat chased the mouse.", "The mouse was chased by the cat."),
        })
        {
            var (tokens, _) = AlpacaTrainingPrompt.Encode(spans, new(instruction, input, output), qualityTag: null);
            var whole = tokenizer.Encode(AlpacaTrainingPrompt.Format(instruction, input) + output, addBos: true);
            Assert.Equal([.. whole, tokenizer.EosId], tokens);
        }
    }

    [Fact]
    public void A_quality_tag_goes_before_the_instruction()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "koala.jsonl");
            File.WriteAllText(path, """{"instruction": "Say hi.", "input": "", "output": "Hi!"}""" + "\n");
            using var data = TrainingData.Prepare([new DataSource(path, TrainingDataFormat.Alpaca, "[bad]")], Synthetic,
                                                  new TrainingDataOptions { MaxLength = 512 }, Path.Combine(dir, "train.tokens"));
            Assert.Contains("### Instruction:\n[bad] Say hi.\n\n### Response:Hi!</s>", Text(Synthetic, data.Train[0].Tokens));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
