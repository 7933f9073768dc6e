using Camelid.Tokenization.ChatTemplates;
// Inside namespace Camelid.Tokenization.*, the bare name ChatTemplates binds to the namespace, not the class.
using TemplateRegistry = Camelid.Tokenization.ChatTemplates.ChatTemplates;

namespace Camelid.Tokenization.Tests;

/// <summary>
/// Finished conversations rendered for training: every piece, its message and whether it is trained, written out by
/// hand from each template's format (see ChatTemplateRenderTests for the sources). Trained are exactly each assistant
/// reply's content (with the format text inside the reply) and the end-of-turn marker after it.
/// </summary>
public class ChatTemplateTrainingRenderTests
{
    static readonly ChatMessage[] TwoRounds =
    [
        new(ChatRole.System, "Be brief."),
        new(ChatRole.User, "Hi"),
        new(ChatRole.Assistant, "Hello!"),
        new(ChatRole.User, "2+2?"),
        new(ChatRole.Assistant, "4"),
    ];

    static TrainingSegment Plain(string text, int message, bool trained = false) => new(text, false, message, trained);
    static TrainingSegment Special(string text, int message, bool trained = false) => new(text, true, message, trained);

    public static TheoryData<string, TrainingSegment[]> Expected() => new()
    {
        {
            "vicuna",
            [
                Plain("Be brief. ", 0), Plain("USER: Hi ", 1), Plain("ASSISTANT:", 2), Plain(" Hello!", 2, true), Special("</s>", 2, true),
                Plain("USER: 2+2? ", 3), Plain("ASSISTANT:", 4), Plain(" 4", 4, true), Special("</s>", 4, true),
            ]
        },
        {
            "koala",
            [
                Plain("Be brief. ", 0), Plain("USER: Hi ", 1), Plain("GPT:", 2), Plain(" Hello!", 2, true), Special("</s>", 2, true),
                Plain("USER: 2+2? ", 3), Plain("GPT:", 4), Plain(" 4", 4, true), Special("</s>", 4, true),
            ]
        },
        {
            "alpaca",
            [
                Plain("Be brief.\n\n", 0), Plain("### Instruction: Hi\n\n", 1), Plain("### Response:", 2), Plain(" Hello!", 2, true),
                Special("</s>", 2, true), Plain("### Instruction: 2+2?\n\n", 3), Plain("### Response:", 4), Plain(" 4", 4, true),
                Special("</s>", 4, true),
            ]
        },
        {
            "llama-2",
            [
                Plain("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n", 0), Plain("Hi [/INST]", 1), Plain(" Hello! ", 2, true), Special("</s>", 2, true),
                Special("<s>", 3), Plain("[INST] 2+2? [/INST]", 3), Plain(" 4 ", 4, true), Special("</s>", 4, true),
            ]
        },
        {
            "llama-3",
            [
                Special("<|begin_of_text|>", -1),
                Special("<|start_header_id|>", 0), Plain("system", 0), Special("<|end_header_id|>", 0), Plain("\n\nBe brief.", 0), Special("<|eot_id|>", 0),
                Special("<|start_header_id|>", 1), Plain("user", 1), Special("<|end_header_id|>", 1), Plain("\n\nHi", 1), Special("<|eot_id|>", 1),
                Special("<|start_header_id|>", 2), Plain("assistant", 2), Special("<|end_header_id|>", 2), Plain("\n\n", 2),
                Plain("Hello!", 2, true), Special("<|eot_id|>", 2, true),
                Special("<|start_header_id|>", 3), Plain("user", 3), Special("<|end_header_id|>", 3), Plain("\n\n2+2?", 3), Special("<|eot_id|>", 3),
                Special("<|start_header_id|>", 4), Plain("assistant", 4), Special("<|end_header_id|>", 4), Plain("\n\n", 4),
                Plain("4", 4, true), Special("<|eot_id|>", 4, true),
            ]
        },
        {
            "chatml",
            [
                Special("<|im_start|>", 0), Plain("system\nBe brief.", 0), Special("<|im_end|>", 0), Plain("\n", 0),
                Special("<|im_start|>", 1), Plain("user\nHi", 1), Special("<|im_end|>", 1), Plain("\n", 1),
                Special("<|im_start|>", 2), Plain("assistant\n", 2), Plain("Hello!", 2, true), Special("<|im_end|>", 2, true), Plain("\n", 2),
                Special("<|im_start|>", 3), Plain("user\n2+2?", 3), Special("<|im_end|>", 3), Plain("\n", 3),
                Special("<|im_start|>", 4), Plain("assistant\n", 4), Plain("4", 4, true), Special("<|im_end|>", 4, true), Plain("\n", 4),
            ]
        },
        {
            "zephyr",
            [
                Plain("<|system|>\nBe brief.", 0), Special("</s>", 0), Plain("\n", 0),
                Plain("<|user|>\nHi", 1), Special("</s>", 1), Plain("\n", 1),
                Plain("<|assistant|>\n", 2), Plain("Hello!", 2, true), Special("</s>", 2, true), Plain("\n", 2),
                Plain("<|user|>\n2+2?", 3), Special("</s>", 3), Plain("\n", 3),
                Plain("<|assistant|>\n", 4), Plain("4", 4, true), Special("</s>", 4, true), Plain("\n", 4),
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Every_piece_is_tagged_with_its_message_and_only_replies_are_trained(string template, TrainingSegment[] expected)
    {
        Assert.Equal(expected, TemplateRegistry.Get(template).RenderForTraining(TwoRounds));
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public void The_training_text_is_the_prompt_of_the_next_turn_up_to_its_new_question(string template, TrainingSegment[] segments)
    {
        // Training and generation must agree on the text: the prompt for a third question starts with exactly the
        // text of the finished two rounds, pieces and control tokens alike.
        var next = TemplateRegistry.Get(template).RenderSegments([.. TwoRounds, new ChatMessage(ChatRole.User, "Bye")]);
        string prompt = string.Concat(next.Select(s => (s.IsSpecial ? "\u0001" : "") + s.Text));
        string training = string.Concat(segments.Select(s => (s.IsSpecial ? "\u0001" : "") + s.Text));
        Assert.StartsWith(training, prompt);
    }

    [Fact]
    public void Without_a_system_message_the_default_system_prompt_belongs_to_no_message()
    {
        var segments = TemplateRegistry.Get("vicuna").RenderForTraining(TwoRounds[1..3]);
        Assert.Equal(
            [
                Plain("A chat between a curious user and an artificial intelligence assistant. " +
                      "The assistant gives helpful, detailed, and polite answers to the user's questions. ", -1),
                Plain("USER: Hi ", 0), Plain("ASSISTANT:", 1), Plain(" Hello!", 1, true), Special("</s>", 1, true),
            ],
            segments);
    }

    [Fact]
    public void An_empty_reply_trains_only_the_end_of_turn_marker_and_the_format_text_inside_the_reply()
    {
        ChatMessage[] empty = [new(ChatRole.User, "Hi"), new(ChatRole.Assistant, "")];
        Assert.Equal([Special("<|im_end|>", 1, true)],
            TemplateRegistry.Get("chatml").RenderForTraining(empty).Where(s => s.IsTrained));
        Assert.Equal([Plain(" ", 1, true), Special("</s>", 1, true)],
            TemplateRegistry.Get("vicuna").RenderForTraining(empty).Where(s => s.IsTrained));
    }

    public static TheoryData<string, ChatMessage[], string> NotFinished()
    {
        var user = new ChatMessage(ChatRole.User, "u");
        var assistant = new ChatMessage(ChatRole.Assistant, "a");
        var system = new ChatMessage(ChatRole.System, "s");
        var data = new TheoryData<string, ChatMessage[], string>();
        foreach (var name in TemplateRegistry.Names)
        {
            data.Add(name, [], "conversation is empty");
            data.Add(name, [system], "only a System message");
            data.Add(name, [user], "ends with a User message");
            data.Add(name, [user, assistant, user], "ends with a User message");
            data.Add(name, [assistant], "Message 0 has role Assistant where User was expected");
            data.Add(name, [user, user, assistant], "Message 1 has role User where Assistant was expected");
            data.Add(name, [user, system, assistant], "only the first message may be System");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NotFinished))]
    public void A_conversation_to_train_on_must_end_with_the_reply(string template, ChatMessage[] messages, string messagePart)
    {
        var error = Assert.Throws<ArgumentException>(() => TemplateRegistry.Get(template).RenderForTraining(messages));
        Assert.Contains(messagePart, error.Message);
    }
}
