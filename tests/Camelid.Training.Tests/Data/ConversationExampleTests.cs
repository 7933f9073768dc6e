using System.Text.Json;
using System.Text.Json.Nodes;
using Camelid.Tests;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training.Data;
using static Camelid.Training.Tests.Data.DataTestTokenizers;
using TemplateRegistry = Camelid.Tokenization.ChatTemplates.ChatTemplates;

namespace Camelid.Training.Tests.Data;

/// <summary>
/// Loss masks of conversations: for every template, tokenizer and both conversation formats, the trained positions are
/// exactly each assistant reply and the end-of-turn marker after it, checked by reading the trained tokens back as text.
/// </summary>
public class ConversationExampleTests
{
    /// <summary>
    /// What the model learns to write for one reply, written out from each template's format: the reply text as the
    /// template places it (vicuna's "ASSISTANT: " space and Llama-2's spaces around the reply are part of the reply; the
    /// header before them is not), then the end-of-turn marker. "&lt;/s&gt;" is the vocabulary's EOS token.
    /// </summary>
    static string ExpectedReply(string template, string content, Tokenizer tokenizer)
    {
        string eos = tokenizer.TokenPiece(tokenizer.EosId);
        return template switch
        {
            "vicuna" or "koala" or "alpaca" => " " + content + eos,
            "llama-2" => " " + content + " " + eos,
            "llama-3" => content.Trim() + "<|eot_id|>",
            "chatml" => content + "<|im_end|>",
            "zephyr" => content + eos,
            _ => throw new ArgumentException(template),
        };
    }

    public static TheoryData<string, string> TemplatesAndTokenizers()
    {
        var data = new TheoryData<string, string>();
        foreach (var template in TemplateRegistry.Names)
            foreach (var tokenizer in new[] { "synthetic", Llama2Model, Gpt2Gguf })
                data.Add(template, tokenizer);
        return data;
    }

    [SharedDataTheory(DummyConversations, Llama2Model, Gpt2Gguf)]
    [MemberData(nameof(TemplatesAndTokenizers))]
    public void Dummy_conversations_train_exactly_the_replies_and_their_end_markers_in_both_formats(string templateName, string tokenizerName)
    {
        var tokenizer = ByName(tokenizerName);
        var template = TemplateRegistry.Get(templateName);
        string dir = TestPaths.NewTempDir();
        try
        {
            // The expected replies come from reading the file here with a plain JSON parser, independently of Camelid.Data.
            var conversations = JsonNode.Parse(File.ReadAllText(TestPaths.Shared(DummyConversations)))!.AsArray();
            string messagesPath = Path.Combine(dir, "messages.jsonl");
            File.WriteAllLines(messagesPath, conversations.Select(c => new JsonObject
            {
                ["messages"] = new JsonArray(c!["conversations"]!.AsArray().Select(t => (JsonNode)new JsonObject
                {
                    ["role"] = (string)t!["from"]! == "human" ? "user" : "assistant",
                    ["content"] = (string)t["value"]!,
                }).ToArray()),
            }.ToJsonString()));

            var options = new TrainingDataOptions { MaxLength = 4096, ChatTemplate = template };
            using var shareGpt = TrainingData.Prepare([new DataSource(TestPaths.Shared(DummyConversations))], tokenizer, options, Path.Combine(dir, "sharegpt.tokens"));
            using var messages = TrainingData.Prepare([new DataSource(messagesPath)], tokenizer, options, Path.Combine(dir, "messages.tokens"));
            Assert.Equal(TrainingDataFormat.ShareGpt, shareGpt.Report.Sources[0].Format);
            Assert.Equal(TrainingDataFormat.Messages, messages.Report.Sources[0].Format);
            Assert.Equal(conversations.Count, shareGpt.Train.Count);
            Assert.Equal(0, shareGpt.Report.Truncated);

            long trainedTokens = 0;
            for (int i = 0; i < conversations.Count; i++)
            {
                var replies = conversations[i]!["conversations"]!.AsArray().Where(t => (string)t!["from"]! == "gpt").Select(t => (string)t!["value"]!).ToList();
                var (tokens, trained) = shareGpt.Train[i];
                var runs = TrainedRuns(trained);
                Assert.Equal(replies.Count, runs.Count);
                for (int r = 0; r < runs.Count; r++)
                {
                    string actual = Text(tokenizer, tokens.Skip(runs[r].Start).Take(runs[r].Length));
                    string expected = ExpectedReply(templateName, replies[r], tokenizer);
                    Assert.True(expected == actual, $"conversation {i} reply {r}: expected {Escape(expected)}, trained {Escape(actual)}");
                }
                Assert.False(trained[0]);
                trainedTokens += trained.Count(t => t);

                // The messages format renders the same conversation to the same tokens and mask.
                var fromMessages = messages.Train[i];
                Assert.Equal(tokens, fromMessages.Tokens);
                Assert.Equal(trained, fromMessages.Trained);
            }
            Assert.Equal(trainedTokens, shareGpt.Report.TrainedTokens);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void The_whole_example_reads_back_as_the_rendered_conversation(string templateName)
    {
        // In the synthetic vocabulary every control text of every template is a token. Then the tokens read back as
        // the rendered text, with the one SentencePiece convention the inference prompt also has: plain text at the
        // start and right after a control token carries the dummy-prefix space.
        var tokenizer = Synthetic;
        var template = TemplateRegistry.Get(templateName);
        ChatMessage[] messages =
        [
            new(ChatRole.System, "You answer in one word."),
            new(ChatRole.User, "Name a color."),
            new(ChatRole.Assistant, "Blue."),
            new(ChatRole.User, "And  another, with two spaces?"),
            new(ChatRole.Assistant, " Green, with a space in front."),
        ];
        var (tokens, trained) = EncodeOne(tokenizer, template, messages);

        var expected = new System.Text.StringBuilder(template.RendersBos ? "" : "<s>");
        bool afterControl = true;
        foreach (var segment in template.RenderForTraining(messages))
        {
            expected.Append(afterControl && !segment.IsSpecial ? " " : "").Append(segment.Text);
            afterControl = segment.IsSpecial;
        }
        Assert.Equal(expected.ToString(), Text(tokenizer, tokens));
        Assert.Equal(
            [ExpectedReply(templateName, "Blue.", tokenizer), ExpectedReply(templateName, " Green, with a space in front.", tokenizer)],
            TrainedRuns(trained).Select(r => Text(tokenizer, tokens.Skip(r.Start).Take(r.Length))));
    }

    public static TheoryData<string> TemplateNames() => [.. TemplateRegistry.Names];

    [SharedDataFact(Llama2Model)]
    public void Vicuna_reply_tokens_are_those_of_tokenizing_the_whole_conversation()
    {
        // The reply span starts at the space after "ASSISTANT:", where SentencePiece starts a piece anyway, so encoding
        // span by span gives the same ids as FastChat's tokenization of the whole text (up to the control tokens).
        var tokenizer = Shared(Llama2Model);
        ChatMessage[] messages = [new(ChatRole.User, "What is the capital of France?"), new(ChatRole.Assistant, "The capital of France is Paris.")];
        var (tokens, _) = EncodeOne(tokenizer, TemplateRegistry.Get("vicuna"), messages);
        string system = TemplateRegistry.Get("vicuna").DefaultSystemPrompt!;
        var whole = tokenizer.Encode(system + " USER: What is the capital of France? ASSISTANT: The capital of France is Paris.", addBos: true);
        Assert.Equal([.. whole, tokenizer.EosId], tokens);
    }

    static (int[] Tokens, bool[] Trained) EncodeOne(Tokenizer tokenizer, ChatTemplate template, ChatMessage[] messages)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "one.jsonl");
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                messages = messages.Select(m => new { role = m.Role.ToString().ToLowerInvariant(), content = m.Content }),
            }) + "\n");
            using var data = TrainingData.Prepare([new DataSource(path)], tokenizer,
                new TrainingDataOptions { MaxLength = 4096, ChatTemplate = template }, Path.Combine(dir, "one.tokens"));
            return data.Train[0];
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Hand-made ShareGPT records for the edge cases; ids name what each one tests.
    static string Conversation(string id, params (string From, string Value)[] turns) => JsonSerializer.Serialize(new
    {
        id,
        conversations = turns.Select(t => new { from = t.From, value = t.Value }),
    });

    static TrainingData PrepareShareGpt(string dir, IEnumerable<string> records, TrainingDataOptions options, string? tag = null) =>
        TrainingData.Prepare([new DataSource(WriteArray(dir, records), TrainingDataFormat.ShareGpt, tag)], Synthetic, options,
                             Path.Combine(dir, "train.tokens"));

    static string WriteArray(string dir, IEnumerable<string> records)
    {
        string path = Path.Combine(dir, "data.json");
        File.WriteAllText(path, "[\n" + string.Join(",\n", records) + "\n]\n");
        return path;
    }

    [Fact]
    public void A_system_turn_and_the_FastChat_role_aliases_are_accepted_and_only_replies_trained()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            using var data = PrepareShareGpt(dir,
            [
                Conversation("with_system", ("system", "Answer briefly."), ("user", "Hi"), ("chatgpt", "Hello!"), ("human", "Bye"), ("bard", "Goodbye!")),
            ], new TrainingDataOptions { MaxLength = 512, ChatTemplate = TemplateRegistry.Get("chatml") });
            var (tokens, trained) = data.Train[0];
            Assert.Equal(["Hello!<|im_end|>", "Goodbye!<|im_end|>"],
                TrainedRuns(trained).Select(r => Text(Synthetic, tokens.Skip(r.Start).Take(r.Length))));
            Assert.StartsWith("<s><|im_start|> system\nAnswer briefly.<|im_end|>", Text(Synthetic, tokens));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_empty_reply_trains_only_its_end_marker()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            using var data = PrepareShareGpt(dir, [Conversation("empty_reply", ("human", "Say nothing."), ("gpt", ""))],
                new TrainingDataOptions { MaxLength = 512, ChatTemplate = TemplateRegistry.Get("zephyr") });
            var (tokens, trained) = data.Train[0];
            var run = Assert.Single(TrainedRuns(trained));
            Assert.Equal([Synthetic.EosId], tokens.Skip(run.Start).Take(run.Length));
            Assert.Equal(1, data.Report.TrainedTokens);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_trailing_user_turn_is_dropped_and_counted()
    {
        // FastChat's preprocessing also ends a conversation at its last reply: a question without an answer teaches nothing.
        string dir = TestPaths.NewTempDir();
        try
        {
            using var data = PrepareShareGpt(dir,
            [
                Conversation("answered", ("human", "Hi"), ("gpt", "Hello!")),
                Conversation("trailing_question", ("human", "Hi"), ("gpt", "Hello!"), ("human", "Are you there?")),
            ], new TrainingDataOptions { MaxLength = 512 });
            Assert.Equal(data.Train[0].Tokens, data.Train[1].Tokens);
            Assert.Equal(data.Train[0].Trained, data.Train[1].Trained);
            Assert.Equal(1, data.Report.Sources[0].TrailingUserTurnsDropped);
            Assert.Equal(2, data.Report.Examples);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Truncation_in_the_middle_of_a_reply_keeps_the_start_of_the_mask()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string reply = string.Join(" ", Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 8));
            var records = new[] { Conversation("long_reply", ("human", "Tell me about the fox."), ("gpt", reply)) };
            using var full = PrepareShareGpt(dir, records, new TrainingDataOptions { MaxLength = 4096 });
            var (allTokens, allTrained) = full.Train[0];
            int firstTrained = Array.IndexOf(allTrained, true);
            full.Dispose();

            int maxLength = firstTrained + 9; // the cut falls 10 tokens into the reply
            Assert.True(allTokens.Length > maxLength + 1);
            using var cut = PrepareShareGpt(dir, records, new TrainingDataOptions { MaxLength = maxLength });
            var (tokens, trained) = cut.Train[0];
            Assert.Equal(allTokens[..(maxLength + 1)], tokens);
            Assert.Equal(allTrained[..(maxLength + 1)], trained);
            Assert.Equal(10, trained.Count(t => t));
            Assert.DoesNotContain(Synthetic.EosId, tokens[1..]);
            Assert.StartsWith(Text(Synthetic, tokens.Skip(firstTrained)), " " + reply);
            Assert.Equal(1, cut.Report.Truncated);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_example_whose_prompt_fills_the_maximum_length_is_skipped_with_its_reason()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            using var data = PrepareShareGpt(dir,
            [
                Conversation("short", ("human", "Hi"), ("gpt", "Hello!")),
                Conversation("long_question", ("human", string.Join(" ", Enumerable.Repeat("why", 200))), ("gpt", "Because.")),
            ], new TrainingDataOptions { MaxLength = 128 });
            Assert.Equal(1, data.Train.Count);
            var skip = Assert.Single(data.Report.Sources[0].Skipped);
            Assert.Equal(["long_question"], skip.FirstIds);
            Assert.Contains("nothing to train on", skip.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string, string> Invalid() => new()
    {
        { Conversation("tool_call", ("human", "Weather?"), ("tool", "{\"temp\": 20}"), ("gpt", "20 degrees.")), "unknown role 'tool'" },
        { Conversation("two_humans", ("human", "Hi"), ("human", "Hello?"), ("gpt", "Hi!")), "roles do not alternate" },
        { Conversation("starts_with_gpt", ("gpt", "Hello!"), ("human", "Hi"), ("gpt", "Yes?")), "roles do not alternate" },
        { Conversation("late_system", ("human", "Hi"), ("system", "Be nice."), ("gpt", "Hi!")), "system turn after the first turn" },
        { Conversation("no_turns"), "empty conversation" },
        { Conversation("question_only", ("human", "Anyone?")), "no assistant reply" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void An_invalid_conversation_stops_the_build_naming_its_id_or_is_skipped_and_counted(string record, string reason)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string[] records = [Conversation("fine", ("human", "Hi"), ("gpt", "Hello!")), record];
            string id = JsonNode.Parse(record)!["id"]!.GetValue<string>();

            var error = Assert.Throws<InvalidExampleException>(() => PrepareShareGpt(dir, records, new TrainingDataOptions { MaxLength = 512 }));
            Assert.Equal(id, error.ExampleId);
            Assert.Contains(id, error.Message);
            Assert.Contains(reason, error.Message);
            Assert.False(File.Exists(Path.Combine(dir, "train.tokens")));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

            using var data = PrepareShareGpt(dir, records, new TrainingDataOptions { MaxLength = 512, SkipInvalid = true });
            Assert.Equal(1, data.Train.Count);
            var source = data.Report.Sources[0];
            Assert.Equal(2, source.Read);
            Assert.Equal(1, source.Examples);
            var skip = Assert.Single(source.Skipped);
            Assert.Contains(reason, skip.Reason);
            Assert.Equal(1, skip.Count);
            Assert.Equal([id], skip.FirstIds);
            Assert.Equal(1, data.Report.Skipped);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_quality_tag_is_put_before_every_user_message()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            using var data = PrepareShareGpt(dir,
                [Conversation("tagged", ("human", "Hi"), ("gpt", "Hello!"), ("human", "Bye"), ("gpt", "Bye!"))],
                new TrainingDataOptions { MaxLength = 512 }, tag: "[good]");
            string text = Text(Synthetic, data.Train[0].Tokens);
            Assert.Contains("USER: [good] Hi ASSISTANT: Hello!</s>", text);
            Assert.Contains("USER: [good] Bye ASSISTANT: Bye!</s>", text);
            Assert.Equal("[good]", data.Report.Sources[0].QualityTag);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
