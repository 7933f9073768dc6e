using Camelid.Data.Formats;

namespace Camelid.Data.Tests.Conversations;

/// <summary>Shorthand for hand-made conversations in tests.</summary>
static class Conv
{
    public static ShareGptConversation Of(string id, params (string From, string Value)[] turns) =>
        new(id, turns.Select(t => new ShareGptTurn(t.From, t.Value)).ToList());

    public static (string, string) H(string value) => ("human", value);
    public static (string, string) G(string value) => ("gpt", value);
    public static (string, string) S(string value) => ("system", value);

    public const string DummyFile = "conversations/dummy_conversation.json";
}
