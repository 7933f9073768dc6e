using System.Text.Json;
using Camelid.Data.Conversations;
using Camelid.Data.Formats;
using Camelid.Tests;
using static Camelid.Data.Tests.Conversations.Conv;

namespace Camelid.Data.Tests.Conversations;

public class ConversationCleanerTests
{
    readonly ConversationCleaner _cleaner = new(new CleanOptions());

    static void AssertTurns(ShareGptConversation? conversation, params (string From, string Value)[] expected) =>
        Assert.Equal(expected.Select(t => new ShareGptTurn(t.From, t.Value)), conversation!.Turns);

    [Fact]
    public void HtmlAnswers_BecomeMarkdown_PlainQuestionsStayAsWritten()
    {
        var result = _cleaner.Clean(Of("a",
            ("user", "How do I use List<int> in C#?"),
            ("chatgpt", "<div class=\"markdown prose\"><p>Like this:</p><pre><div><span>csharp</span><button>Copy code</button></div><div><code class=\"language-csharp\">var xs = new List&lt;int&gt;();</code></div></pre></div>")));
        Assert.Null(result.DropReason);
        Assert.Equal("a", result.Conversation!.Id);
        AssertTurns(result.Conversation, H("How do I use List<int> in C#?"), G("Like this:\n\n```csharp\nvar xs = new List<int>();\n```"));
    }

    [Fact]
    public void LeadingGptAndTrailingHuman_AreRemoved()
    {
        var result = _cleaner.Clean(Of("a", G("Welcome!"), H("Q1"), G("A1"), H("Q2"), G("A2"), H("unanswered")));
        Assert.True(result.LeadingGptTurnRemoved);
        Assert.True(result.TrailingHumanTurnRemoved);
        AssertTurns(result.Conversation, H("Q1"), G("A1"), H("Q2"), G("A2"));
    }

    [Fact]
    public void LeadingSystemTurn_IsKept()
    {
        var result = _cleaner.Clean(Of("a", S("Be brief."), H("Q"), G("A")));
        AssertTurns(result.Conversation, S("Be brief."), H("Q"), G("A"));
    }

    [Theory]
    [InlineData(DropReasons.BrokenAlternation, new[] { "human", "Q1", "human", "Q2", "gpt", "A" })]
    [InlineData(DropReasons.BrokenAlternation, new[] { "human", "Q", "gpt", "A1", "gpt", "A2", "human", "Q2", "gpt", "A3" })]
    [InlineData(DropReasons.BrokenAlternation, new[] { "human", "Q", "system", "S", "gpt", "A" })]
    [InlineData(DropReasons.EmptyTurn, new[] { "human", "Q", "gpt", "  " })]
    [InlineData(DropReasons.EmptyTurn, new[] { "human", "<p> </p>", "gpt", "A" })]
    [InlineData(DropReasons.EmptyTurn, new[] { "human", "2 / 2", "gpt", "A" })]
    [InlineData(DropReasons.TooShort, new[] { "human", "Q" })]
    [InlineData(DropReasons.TooShort, new[] { "gpt", "A", "human", "Q" })]
    [InlineData(DropReasons.UnknownRole, new[] { "human", "Q", "tool", "{}" })]
    [InlineData(DropReasons.UnknownRole, new[] { "", "Q", "gpt", "A" })]
    public void BrokenConversations_AreDroppedWithTheReason(string reason, string[] flat)
    {
        var turns = flat.Chunk(2).Select(p => (p[0], p[1])).ToArray();
        Assert.Equal(reason, _cleaner.Clean(Of("x", turns)).DropReason);
    }

    [Fact]
    public void NoTurns_IsDropped() => Assert.Equal(DropReasons.NoTurns, _cleaner.Clean(new ShareGptConversation("x", [])).DropReason);

    [Fact]
    public void Blocklist_IsCaseInsensitive()
    {
        var cleaner = new ConversationCleaner(new CleanOptions { BlockedPhrases = ["as an AI language model", "OpenAI"] });
        Assert.Equal(DropReasons.BlockedPhrase, cleaner.Clean(Of("a", H("Who made you?"), G("I was trained by openai."))).DropReason);
        Assert.Equal(DropReasons.BlockedPhrase, cleaner.Clean(Of("b", H("Q"), G("As an AI Language Model, I can't."))).DropReason);
        Assert.Null(cleaner.Clean(Of("c", H("Q"), G("Sure."))).DropReason);
    }

    [Fact]
    public void LanguageFilter_KeepsOnlyListedLanguages()
    {
        var cleaner = new ConversationCleaner(new CleanOptions { KeepLanguages = ["en"] });
        Assert.Null(cleaner.Clean(Of("a", H("What is the capital of France?"), G("It is Paris, and it is lovely."))).DropReason);
        Assert.Equal(DropReasons.Language, cleaner.Clean(Of("b", H("法国的首都是哪里？"), G("是巴黎。"))).DropReason);
    }

    [Fact]
    public void Deduplicator_DropsRepeatedIdsAndContents()
    {
        var dedupe = new ConversationDeduplicator();
        Assert.Null(dedupe.Check(Of("a", H("Q"), G("A"))));
        Assert.Equal(DropReasons.DuplicateId, dedupe.Check(Of("a", H("Other"), G("A"))));
        Assert.Equal(DropReasons.DuplicateContent, dedupe.Check(Of("b", H("Q"), G("A"))));
        Assert.Null(dedupe.Check(Of("c", H("Q"), G("A "))));
        Assert.Null(dedupe.Check(Of("", H("QA"), G(""))));
        Assert.Null(dedupe.Check(Of("", H("Q"), G("A"), H("Q"), G("A")))); // hash boundaries: not the same as (QA, "")
    }

    [SharedDataFact(Conv.DummyFile)]
    public async Task DummyFile_CleanPassesThroughUnchanged()
    {
        string input = TestPaths.Shared(Conv.DummyFile);
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "clean.json");
        var report = await ShareGptCleaning.RunAsync(input, output, new CleanOptions());
        // Reference: the file parsed independently (JsonDocument), not through our reader.
        using var raw = JsonDocument.Parse(File.ReadAllText(input));
        var expected = raw.RootElement.EnumerateArray().Select(c => (
            c.GetProperty("id").GetString()!,
            string.Join("\u0001", c.GetProperty("conversations").EnumerateArray().Select(t => t.GetProperty("from").GetString() + ":" + t.GetProperty("value").GetString())))).ToList();
        var actual = DataFile.Read<ShareGptConversation>(output).Select(c => (c.Id, string.Join("\u0001", c.Turns.Select(t => t.From + ":" + t.Value)))).ToList();
        Assert.Equal(500, expected.Count);
        Assert.Equal(expected, actual);
        Assert.Equal(500, report.Read);
        Assert.Equal(500, report.Written);
        Assert.Empty(report.Dropped);
        Directory.Delete(dir, true);
    }

    [SharedDataFact(Conv.DummyFile)]
    public void DummyFile_IsAllGuessedEnglish()
    {
        // FastChat's identity conversations are short English exchanges ("Who made you?" / "Researchers from …").
        var cleaner = new ConversationCleaner(new CleanOptions { KeepLanguages = ["en"] });
        var dropped = DataFile.Read<ShareGptConversation>(TestPaths.Shared(Conv.DummyFile)).Where(c => cleaner.Clean(c).DropReason != null).Select(c => c.Id);
        Assert.Empty(dropped);
    }

    [SharedDataFact(Conv.DummyFile)]
    public async Task DummyFile_WithInjectedProblems_CountsEachReason()
    {
        var original = DataFile.Read<ShareGptConversation>(TestPaths.Shared(Conv.DummyFile)).ToList();
        var extra = new List<ShareGptConversation>
        {
            original[3] with { Id = "copy_of_3" },                  // duplicate content
            original[4] with { Turns = [new ShareGptTurn("human", "different")] }, // a duplicate id, but cleaning drops it first: too short
            Of(original[6].Id, H("New question"), G("New answer")),  // duplicate id
            Of("broken", H("Q"), H("Q again"), G("A")),
            Of("empty", H("Q"), G("")),
            Of("html", H("Q"), G("<p>An <b>HTML</b> answer</p>")),
        };
        string dir = TestPaths.NewTempDir();
        string input = Path.Combine(dir, "in.jsonl"), output = Path.Combine(dir, "out.jsonl");
        DataFile.Write(input, original.Concat(extra));
        var report = await ShareGptCleaning.RunAsync(input, output, new CleanOptions());
        Assert.Equal(506, report.Read);
        Assert.Equal(501, report.Written);
        string[] reasons = [DropReasons.BrokenAlternation, DropReasons.DuplicateContent, DropReasons.DuplicateId, DropReasons.EmptyTurn, DropReasons.TooShort];
        Assert.Equal(reasons.Select(r => (r, 1)), report.Dropped.Select(p => (p.Key, p.Value)));
        var written = DataFile.Read<ShareGptConversation>(output).ToList();
        Assert.Equal("An **HTML** answer", written[^1].Turns[1].Value);
        Assert.Equal(original.Select(c => c.Id), written.Take(500).Select(c => c.Id)); // input order kept
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task ManyConversations_StreamInOrder_AcrossBatches()
    {
        // More than one batch, with every 7th a duplicate of an earlier one: order and counts must not depend on batching.
        var items = Enumerable.Range(0, 2000).Select(i => i % 7 == 6 ? Of($"d{i}", H($"Q{i - 3}"), G($"A{i - 3}")) : Of($"c{i}", H($"Q{i}"), G($"A{i}"))).ToList();
        string dir = TestPaths.NewTempDir();
        string input = Path.Combine(dir, "in.json"), output = Path.Combine(dir, "out.json");
        DataFile.Write(input, items);
        var report = await ShareGptCleaning.RunAsync(input, output, new CleanOptions());
        int duplicates = items.Count(c => c.Id.StartsWith('d'));
        Assert.Equal(duplicates, report.Dropped[DropReasons.DuplicateContent]);
        Assert.Equal(items.Where(c => c.Id.StartsWith('c')).Select(c => c.Id), DataFile.Read<ShareGptConversation>(output).Select(c => c.Id));
        Directory.Delete(dir, true);
    }
}
