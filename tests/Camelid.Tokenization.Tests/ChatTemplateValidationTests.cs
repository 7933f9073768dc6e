using Camelid.Tokenization.ChatTemplates;
// Inside namespace Camelid.Tokenization.*, the bare name ChatTemplates binds to the namespace, not the class.
using TemplateRegistry = Camelid.Tokenization.ChatTemplates.ChatTemplates;

namespace Camelid.Tokenization.Tests;

/// <summary>Conversations that no template can render: each must fail with ArgumentException and say why.</summary>
public class ChatTemplateValidationTests
{
    static readonly ChatMessage User = new(ChatRole.User, "u");
    static readonly ChatMessage Assistant = new(ChatRole.Assistant, "a");
    static readonly ChatMessage System = new(ChatRole.System, "s");

    public static TheoryData<string, ChatMessage[], string> Invalid()
    {
        var data = new TheoryData<string, ChatMessage[], string>();
        foreach (var name in TemplateRegistry.Names)
        {
            data.Add(name, [], "conversation is empty");
            data.Add(name, [System], "only a System message");
            data.Add(name, [User, Assistant], "ends with an Assistant message");
            data.Add(name, [Assistant, User], "Message 0 has role Assistant where User was expected");
            data.Add(name, [System, Assistant], "Message 1 has role Assistant where User was expected");
            data.Add(name, [User, User], "Message 1 has role User where Assistant was expected");
            data.Add(name, [User, Assistant, Assistant, User], "Message 2 has role Assistant where User was expected");
            data.Add(name, [User, System, User], "only the first message may be System");
            data.Add(name, [System, System, User], "only the first message may be System");
            data.Add(name, [new ChatMessage(ChatRole.User, null!)], "null content");
            data.Add(name, [new ChatMessage((ChatRole)7, "x")], "unknown role value 7");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_conversations_throw_ArgumentException(string template, ChatMessage[] messages, string messagePart)
    {
        var t = TemplateRegistry.Get(template);
        var error = Assert.Throws<ArgumentException>(() => t.Render(messages));
        Assert.Contains(messagePart, error.Message);
        Assert.Throws<ArgumentException>(() => t.RenderSegments(messages));
    }

    [Fact]
    public void Null_list_or_null_message_is_rejected()
    {
        var vicuna = TemplateRegistry.Get("vicuna");
        Assert.Throws<ArgumentNullException>(() => vicuna.Render(null!));
        var error = Assert.Throws<ArgumentException>(() => vicuna.Render([User, null!, User]));
        Assert.Contains("Message 1 is null", error.Message);
    }

    [Fact]
    public void Empty_message_content_is_kept_not_treated_as_the_open_turn()
    {
        // FastChat's get_prompt would write "USER:" for an empty user message; an empty message is just empty here.
        Assert.Equal(
            "s USER:  ASSISTANT:",
            TemplateRegistry.Get("vicuna").Render([System, new ChatMessage(ChatRole.User, "")]));
    }
}
