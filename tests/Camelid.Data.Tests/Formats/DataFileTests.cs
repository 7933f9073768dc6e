using System.Text;
using System.Text.Json;
using Camelid.Data.Formats;
using Camelid.Tests;

namespace Camelid.Data.Tests.Formats;

public class DataFileTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void JsonArrayAndJsonLines_ReadTheSameRecords()
    {
        string array = Write("a.json", """
            [
              {"instruction": "Add", "input": "1 2", "output": "3"},
              {"instruction": "Greet", "output": "Hi"}
            ]
            """);
        string lines = Write("a.jsonl", "{\"instruction\": \"Add\", \"input\": \"1 2\", \"output\": \"3\"}\n\n{\"instruction\": \"Greet\", \"output\": \"Hi\"}\n");
        var expected = new[] { new AlpacaRecord("Add", "1 2", "3"), new AlpacaRecord("Greet", "", "Hi") };
        Assert.Equal(expected, DataFile.Read<AlpacaRecord>(array).ToArray());
        Assert.Equal(expected, DataFile.Read<AlpacaRecord>(lines).ToArray());
    }

    [Fact]
    public void Utf8Bom_AndEmptyFile_AreAccepted()
    {
        string path = Path.Combine(_dir, "bom.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("[{\"instruction\":\"x\",\"input\":\"\",\"output\":\"y\"}]")]);
        Assert.Single(DataFile.Read<AlpacaRecord>(path));
        Assert.Empty(DataFile.Read<AlpacaRecord>(Write("empty.json", "  \n")));
    }

    [Fact]
    public void ShareGpt_ReadsLeniently_AndAcceptsRoleAliases()
    {
        string path = Write("s.json", """
            [{"id": 7, "conversations": [{"from": "user", "value": "Hi"}, {"from": "assistant", "value": null}, {"value": "x"}], "model": "gpt-4"},
             {"id": "b"}]
            """);
        var records = DataFile.Read<ShareGptConversation>(path).ToList();
        Assert.Equal("7", records[0].Id);
        Assert.Equal([new ShareGptTurn("user", "Hi"), new ShareGptTurn("assistant", ""), new ShareGptTurn("", "x")], records[0].Turns);
        Assert.Equal([ShareGptRoles.Human, ShareGptRoles.Gpt, null], records[0].Turns.Select(t => t.Role));
        Assert.Empty(records[1].Turns);
    }

    [Fact]
    public void Messages_ContentPartsAreJoined()
    {
        string path = Write("m.jsonl", """
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}, {"type": "text", "text": "b"}]}]}
            """);
        var record = Assert.Single(DataFile.Read<OpenAiMessagesRecord>(path));
        Assert.Equal([new OpenAiMessage("system", "Be brief."), new OpenAiMessage("user", "a\nb")], record.Messages);
    }

    [Theory]
    [InlineData("bad.json", "[{\"instruction\": \"x\"},\n {\"instruction\": ]", "line 2")]
    [InlineData("bad.jsonl", "{\"instruction\": \"x\"}\n{\"instruction\": 5}\n", "line 2")]
    [InlineData("bad2.json", "hello", "expected a JSON array")]
    [InlineData("bad3.json", "[null]", "record 1 is null")]
    public void BrokenFiles_NameTheFileAndThePlace(string name, string text, string mentions)
    {
        string path = Write(name, text);
        var e = Assert.Throws<DataFormatException>(() => DataFile.Read<AlpacaRecord>(path).ToList());
        Assert.Contains(path, e.Message);
        Assert.Contains(mentions, e.Message);
        Assert.IsAssignableFrom<IOException>(e); // so the CLI reports it as a bad input file
    }

    [Fact]
    public void MissingFile_IsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => DataFile.Read<AlpacaRecord>(Path.Combine(_dir, "none.json")).ToList());
    }

    [Theory]
    [InlineData("out.json")]
    [InlineData("out.jsonl")]
    public void Writer_RoundTrips_KeepsNonAsciiReadable_AndLeavesNoTempFile(string name)
    {
        var records = new[] { new AlpacaRecord("Übersetze «это»", "", "你好 <b> & \"q\""), new AlpacaRecord("a\nb", "c", "d") };
        string path = Path.Combine(_dir, name);
        Assert.Equal(2, DataFile.Write(path, records));
        Assert.Equal(records, DataFile.Read<AlpacaRecord>(path).ToArray());
        string text = File.ReadAllText(path);
        Assert.Contains("你好 <b> &", text); // not \u escaped
        Assert.Equal(name.EndsWith(".jsonl") ? 2 : 1, name.EndsWith(".jsonl") ? text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length : 1);
        if (!name.EndsWith(".jsonl"))
            Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(text).RootElement.ValueKind);
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Writer_NotCommitted_LeavesTheOldFileAlone()
    {
        string path = Write("keep.json", "[]");
        using (var writer = new DataFileWriter<AlpacaRecord>(path))
            writer.Write(new AlpacaRecord("x", "", "y"));
        Assert.Equal("[]", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void ShareGpt_WritesFastChatShape()
    {
        string path = Path.Combine(_dir, "s.json");
        DataFile.Write(path, [new ShareGptConversation("id_1", [new ShareGptTurn("human", "Q"), new ShareGptTurn("gpt", "A")])]);
        var root = JsonDocument.Parse(File.ReadAllText(path)).RootElement[0];
        Assert.Equal("id_1", root.GetProperty("id").GetString());
        Assert.Equal("gpt", root.GetProperty("conversations")[1].GetProperty("from").GetString());
        Assert.Equal("A", root.GetProperty("conversations")[1].GetProperty("value").GetString());
    }
}
