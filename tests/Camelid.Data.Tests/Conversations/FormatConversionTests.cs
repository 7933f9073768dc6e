using System.Text.Json;
using Camelid.Data.Conversations;
using Camelid.Data.Formats;
using Camelid.Tests;
using static Camelid.Data.Tests.Conversations.Conv;

namespace Camelid.Data.Tests.Conversations;

public class FormatConversionTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    string PathOf(string name) => Path.Combine(_dir, name);

    static readonly AlpacaRecord[] Alpaca =
    [
        new("Give three tips for staying healthy.", "", "1. Eat well.\n2. Sleep.\n3. Move."),
        new("Translate to French.", "Good morning", "Bonjour"),
        new("Résume ce texte «vite».", "Un texte\nsur deux lignes.", "Un résumé."),
    ];

    [Fact]
    public void AlpacaToShareGpt_IsFastChatsShape()
    {
        var c = FormatConversion.FromAlpaca(Alpaca[1], "alpaca_1");
        Assert.Equal([new ShareGptTurn("human", "Translate to French.\nInput:\nGood morning"), new ShareGptTurn("gpt", "Bonjour")], c.Turns);
        Assert.Equal("Give three tips for staying healthy.", FormatConversion.FromAlpaca(Alpaca[0], "x").Turns[0].Value);
    }

    [Fact]
    public async Task Alpaca_ToShareGpt_ToMessages_ToShareGpt_ToAlpaca_RoundTrips()
    {
        DataFile.Write(PathOf("a.json"), Alpaca);
        await FormatConverting.RunAsync(PathOf("a.json"), PathOf("s.json"), DataFormat.ShareGpt);
        await FormatConverting.RunAsync(PathOf("s.json"), PathOf("m.jsonl"), DataFormat.Messages);
        await FormatConverting.RunAsync(PathOf("m.jsonl"), PathOf("s2.json"), DataFormat.ShareGpt);
        var report = await FormatConverting.RunAsync(PathOf("s2.json"), PathOf("a2.jsonl"), DataFormat.Alpaca);
        Assert.Equal(Alpaca, DataFile.Read<AlpacaRecord>(PathOf("a2.jsonl")));
        Assert.Equal(3, report.Written);
        Assert.Equal(["alpaca_0", "alpaca_1", "alpaca_2"], DataFile.Read<ShareGptConversation>(PathOf("s.json")).Select(c => c.Id));

        using var messages = JsonDocument.Parse(File.ReadLines(PathOf("m.jsonl")).First());
        var first = messages.RootElement.GetProperty("messages");
        Assert.Equal("user", first[0].GetProperty("role").GetString());
        Assert.Equal("assistant", first[1].GetProperty("role").GetString());
    }

    [SharedDataFact(Conv.DummyFile)]
    public async Task DummyFile_ShareGptToMessagesAndBack_IsExact_ExceptIds()
    {
        await FormatConverting.RunAsync(TestPaths.Shared(Conv.DummyFile), PathOf("m.jsonl"), DataFormat.Messages);
        await FormatConverting.RunAsync(PathOf("m.jsonl"), PathOf("s.json"), DataFormat.ShareGpt);
        var original = DataFile.Read<ShareGptConversation>(TestPaths.Shared(Conv.DummyFile)).ToList();
        var back = DataFile.Read<ShareGptConversation>(PathOf("s.json")).ToList();
        Assert.Equal(original.Count, back.Count);
        for (int i = 0; i < original.Count; i++)
        {
            Assert.Equal(original[i].Turns, back[i].Turns);
            Assert.Equal($"messages_{i}", back[i].Id); // the messages format has no ids
        }
    }

    [Fact]
    public async Task MultiTurnToAlpaca_FirstOrDrop_SystemLeftOut()
    {
        DataFile.Write(PathOf("s.json"), new[]
        {
            Of("a", S("Be nice."), H("Q1"), G("A1"), H("Q2"), G("A2")),
            Of("b", H("Only"), G("One")),
            Of("c", G("Answer first"), H("Q")),
        });
        var report = await FormatConverting.RunAsync(PathOf("s.json"), PathOf("first.json"), DataFormat.Alpaca, MultiTurnToAlpaca.First);
        Assert.Equal([new AlpacaRecord("Q1", "", "A1"), new AlpacaRecord("Only", "", "One")], DataFile.Read<AlpacaRecord>(PathOf("first.json")));
        Assert.Equal(1, report.Notes["system turns left out"]);
        Assert.Equal(1, report.Notes["multi-turn conversations cut to their first exchange"]);
        Assert.Equal(1, report.Dropped[FormatConversion.NotOneExchange]);

        report = await FormatConverting.RunAsync(PathOf("s.json"), PathOf("drop.json"), DataFormat.Alpaca, MultiTurnToAlpaca.Drop);
        Assert.Equal([new AlpacaRecord("Only", "", "One")], DataFile.Read<AlpacaRecord>(PathOf("drop.json")));
        Assert.Equal(1, report.Dropped[FormatConversion.MultiTurnDropped]);
    }

    [Fact]
    public async Task UnknownRoles_AreDroppedWithAReason()
    {
        File.WriteAllText(PathOf("m.jsonl"),
            "{\"messages\": [{\"role\": \"user\", \"content\": \"weather?\"}, {\"role\": \"tool\", \"content\": \"{}\"}, {\"role\": \"assistant\", \"content\": \"Sunny\"}]}\n" +
            "{\"messages\": [{\"role\": \"developer\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}\n");
        var report = await FormatConverting.RunAsync(PathOf("m.jsonl"), PathOf("s.json"), DataFormat.ShareGpt);
        Assert.Equal(1, report.Dropped[FormatConversion.UnknownRole]);
        var kept = Assert.Single(DataFile.Read<ShareGptConversation>(PathOf("s.json")));
        Assert.Equal([new ShareGptTurn("system", "Be brief."), new ShareGptTurn("human", "Hi"), new ShareGptTurn("gpt", "Hello")], kept.Turns);
    }

    [Fact]
    public async Task UnrecognisedRecords_AreAnError()
    {
        File.WriteAllText(PathOf("x.json"), "[{\"prompt\": \"a\", \"completion\": \"b\"}]");
        var e = await Assert.ThrowsAsync<DataFormatException>(() => FormatConverting.RunAsync(PathOf("x.json"), PathOf("y.json"), DataFormat.Alpaca));
        Assert.Contains("record 1 is not Alpaca, ShareGPT or messages data", e.Message);
        Assert.False(File.Exists(PathOf("y.json")));
    }
}
