using System.Text.Json;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid data clean-sharegpt / split-long / convert / stats` run as a process: exit codes, outputs, one-line errors.</summary>
public class DataConversationTests : IDisposable
{
    const string Dummy = "conversations/dummy_conversation.json";
    const string LlamaTokenizer = "tokenizers/llama2c/tokenizer.model";
    const string Stories = "models/stories260K.gguf";

    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    string PathOf(string name) => Path.Combine(_dir, name);

    static void AssertOk(CliResult r) => Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StandardError}");

    static void AssertCleanError(CliResult r, string mentions)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(mentions, lines[0]);
    }

    static JsonElement ReadJson(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    [Fact]
    public void CleanShareGpt_HandMadeFile_CleansAndSummarises()
    {
        File.WriteAllText(PathOf("in.json"), """
            [
              {"id": "a", "conversations": [{"from": "human", "value": "Hi, what is the weather like?"}, {"from": "gpt", "value": "<div><p>It is <b>sunny</b> and warm today.</p></div>"}]},
              {"id": "b", "conversations": [{"from": "human", "value": "Hi, what is the weather like?"}, {"from": "gpt", "value": "<div><p>It is <b>sunny</b> and warm today.</p></div>"}]},
              {"id": "c", "conversations": [{"from": "human", "value": "Q"}, {"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A"}]},
              {"id": "d", "conversations": [{"from": "human", "value": "Tell me about OpenAI"}, {"from": "gpt", "value": "It is a company."}]},
              {"id": "e", "conversations": [{"from": "human", "value": "法国的首都是哪里？"}, {"from": "gpt", "value": "是巴黎。"}]}
            ]
            """);
        File.WriteAllText(PathOf("block.txt"), "# phrases\nopenai\n\n");
        var r = CliRunner.Run("data", "clean-sharegpt", PathOf("in.json"), PathOf("out.jsonl"), "--blocklist", PathOf("block.txt"), "--lang", "en");
        AssertOk(r);
        var lines = File.ReadAllLines(PathOf("out.jsonl"));
        var kept = JsonDocument.Parse(Assert.Single(lines)).RootElement;
        Assert.Equal("a", kept.GetProperty("id").GetString());
        Assert.Equal("It is **sunny** and warm today.", kept.GetProperty("conversations")[1].GetProperty("value").GetString());
        Assert.Contains("read 5 conversations, wrote 1 conversations, dropped 4", r.StandardOutput);
        foreach (string reason in new[] { "duplicate content", "broken alternation", "blocked phrase", "language" })
            Assert.Matches($@"dropped\s+1\s+{reason}\n", r.StandardOutput);
    }

    [SharedDataFact(Dummy)]
    public void CleanShareGpt_DummyFile_KeepsAll500()
    {
        var r = CliRunner.Run("data", "clean-sharegpt", TestPaths.Shared(Dummy), PathOf("clean.json"));
        AssertOk(r);
        Assert.Equal(500, ReadJson(PathOf("clean.json")).GetArrayLength());
        Assert.Contains("read 500 conversations, wrote 500 conversations, dropped 0", r.StandardOutput);
    }

    [Theory]
    [InlineData("not json at all", "expected a JSON array")]
    [InlineData("[{\"id\": \"a\", \"conversations\": [}", "line 1")]
    [InlineData("[1, 2]", "expected a ShareGPT conversation object")]
    public void CleanShareGpt_BadInput_OneLineError_NoOutputFile(string content, string mentions)
    {
        File.WriteAllText(PathOf("bad.json"), content);
        var r = CliRunner.Run("data", "clean-sharegpt", PathOf("bad.json"), PathOf("out.json"));
        AssertCleanError(r, PathOf("bad.json"));
        Assert.Contains(mentions, r.StandardError);
        Assert.False(File.Exists(PathOf("out.json")));
        Assert.Equal([PathOf("bad.json")], Directory.GetFiles(_dir)); // no temporary file left behind
    }

    [Fact]
    public void MissingFiles_OneLineErrors()
    {
        AssertCleanError(CliRunner.Run("data", "clean-sharegpt", PathOf("none.json"), PathOf("out.json")), "none.json: file not found");
        File.WriteAllText(PathOf("in.json"), "[]");
        AssertCleanError(CliRunner.Run("data", "clean-sharegpt", PathOf("in.json"), PathOf("out.json"), "--blocklist", PathOf("nope.txt")), "nope.txt");
        AssertCleanError(CliRunner.Run("data", "stats", PathOf("none.json")), "none.json: file not found");
        AssertCleanError(CliRunner.Run("data", "split-long", PathOf("in.json"), PathOf("out.json")), "give --model MODEL or --tokenizer FILE");
        AssertCleanError(CliRunner.Run("data", "split-long", PathOf("in.json"), PathOf("out.json"), "--tokenizer", PathOf("no.model")), "no.model");
    }

    [Fact]
    public void UsageErrors_AreNotZero()
    {
        File.WriteAllText(PathOf("in.json"), "[]");
        Assert.NotEqual(0, CliRunner.Run("data", "convert", PathOf("in.json"), PathOf("out.json")).ExitCode); // --to is required
        Assert.NotEqual(0, CliRunner.Run("data", "convert", PathOf("in.json"), PathOf("out.json"), "--to", "csv").ExitCode);
        Assert.NotEqual(0, CliRunner.Run("data", "split-long", PathOf("in.json"), PathOf("out.json"), "--tokenizer", "x", "--overlong", "maybe").ExitCode);
    }

    [SharedDataFact(Dummy, LlamaTokenizer)]
    public void SplitLong_SmallLimit_SplitsAndEveryPieceIsUnderTheLimit()
    {
        var r = CliRunner.Run("data", "split-long", TestPaths.Shared(Dummy), PathOf("split.json"),
                              "--tokenizer", TestPaths.Shared(LlamaTokenizer), "--max-len", "128");
        AssertOk(r);
        Assert.Contains("read 500 conversations", r.StandardOutput);
        Assert.Contains("template: vicuna", r.StandardOutput);
        Assert.Matches(@"conversations split: [1-9]", r.StandardOutput);
        var pieces = ReadJson(PathOf("split.json"));
        Assert.True(pieces.GetArrayLength() > 500);
        Assert.Contains(pieces.EnumerateArray(), p => p.GetProperty("id").GetString()!.EndsWith("_4")); // the piece starting at turn 4

        // Every piece fits, counted again by `camelid data stats` with the same tokenizer and template.
        var stats = CliRunner.Run("data", "stats", PathOf("split.json"), "--tokenizer", TestPaths.Shared(LlamaTokenizer), "--template", "vicuna", "--json");
        AssertOk(stats);
        Assert.InRange(JsonDocument.Parse(stats.StandardOutput).RootElement.GetProperty("conversationLengths").GetProperty("max").GetInt32(), 1, 128);
    }

    [SharedDataFact(Dummy, Stories)]
    public void SplitLong_WithAModel_DefaultLimit_KeepsEverything()
    {
        var r = CliRunner.Run("data", "split-long", TestPaths.Shared(Dummy), PathOf("split.jsonl"), "--model", TestPaths.Shared(Stories));
        AssertOk(r);
        Assert.Contains("read 500 conversations, wrote 500 pieces, dropped 0", r.StandardOutput);
        Assert.Contains("template: vicuna", r.StandardOutput);
        Assert.Equal(500, File.ReadAllLines(PathOf("split.jsonl")).Length);
    }

    [Fact]
    public void Convert_AlpacaToMessagesAndBack()
    {
        File.WriteAllText(PathOf("a.json"), """
            [{"instruction": "Translate", "input": "Hello", "output": "Bonjour"}, {"instruction": "Say hi", "input": "", "output": "Hi"}]
            """);
        AssertOk(CliRunner.Run("data", "convert", PathOf("a.json"), PathOf("m.jsonl"), "--to", "messages"));
        var first = JsonDocument.Parse(File.ReadLines(PathOf("m.jsonl")).First()).RootElement.GetProperty("messages");
        Assert.Equal("Translate\nInput:\nHello", first[0].GetProperty("content").GetString());
        var r = CliRunner.Run("data", "convert", PathOf("m.jsonl"), PathOf("back.json"), "--to", "alpaca");
        AssertOk(r);
        Assert.Contains("read 2 records, wrote 2 alpaca records, dropped 0", r.StandardOutput);
        var back = ReadJson(PathOf("back.json"));
        Assert.Equal("Hello", back[0].GetProperty("input").GetString());
        Assert.Equal("Say hi", back[1].GetProperty("instruction").GetString());
    }

    [SharedDataFact(Dummy)]
    public void Stats_PrintsCounts_AndWritesAPng()
    {
        var r = CliRunner.Run("data", "stats", TestPaths.Shared(Dummy), "--png", PathOf("hist.png"));
        AssertOk(r);
        Assert.Contains("500 records (sharegpt 500)", r.StandardOutput);
        Assert.Contains("turns: 2000 (gpt 1000, human 1000)", r.StandardOutput);
        Assert.Contains("length in words", r.StandardOutput);
        byte[] png = File.ReadAllBytes(PathOf("hist.png"));
        Assert.True(png.Length > 1000);
        Assert.Equal("\x89PNG\r\n\x1a\n", string.Concat(png[..8].Select(b => (char)b)));
    }

    [SharedDataFact(Dummy)]
    public void Stats_Json_IsMachineReadable()
    {
        var r = CliRunner.Run("data", "stats", TestPaths.Shared(Dummy), "--json");
        AssertOk(r);
        var json = JsonDocument.Parse(r.StandardOutput).RootElement;
        Assert.Equal(500, json.GetProperty("records").GetInt32());
        Assert.Equal(167, json.GetProperty("turnsPerConversation").GetProperty("2").GetInt32());
    }
}
