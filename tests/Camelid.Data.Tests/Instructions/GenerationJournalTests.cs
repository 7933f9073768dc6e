using System.Text;
using Camelid.Data.Formats;
using Camelid.Data.Instructions;
using Camelid.Tests;

namespace Camelid.Data.Tests.Instructions;

public class GenerationJournalTests
{
    static JournalHeader Header => new() { Mode = "alpaca", TeacherModel = "m", Endpoint = "chat", SeedTasksSha256 = "s", PromptSha256 = "p" };

    static AlpacaUnit Unit(int n) => new(n, [new TeacherExchange($"answer {n}", "stop", 10, 20)],
        [new AlpacaRecord($"instruction {n}", "", "out ü")],
        [new DroppedCandidate { Unit = n, Stage = "generate", Reason = DropReason.TooSimilar, Instruction = "x", MostSimilar = "y", Score = 0.75 }]);

    [Fact]
    public void Entries_RoundTrip()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "out.journal.jsonl");
        using (var journal = GenerationJournal.Open(path))
        {
            Assert.Empty(journal.Entries);
            journal.Append(Header);
            journal.Append(Unit(0));
            journal.Append(Unit(1));
        }
        Assert.Equal(3, File.ReadAllLines(path).Length);
        using var reopened = GenerationJournal.Open(path);
        Assert.Equal(3, reopened.Entries.Count);
        Assert.Equal(Header, reopened.Entries[0]);
        var unit = Assert.IsType<AlpacaUnit>(reopened.Entries[2]);
        Assert.Equal(1, unit.Unit);
        Assert.Equal("out ü", unit.Kept[0].Output);
        Assert.Equal(0.75, unit.Dropped[0].Score);
        Assert.Equal(0, reopened.CutBytes);
    }

    [Fact]
    public void TornLastLine_IsCutOff_AndAppendingGoesOn()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "out.journal.jsonl");
        using (var journal = GenerationJournal.Open(path))
        {
            journal.Append(Header);
            journal.Append(Unit(0));
        }
        long good = new FileInfo(path).Length;
        File.AppendAllText(path, "{\"kind\":\"alpaca\",\"unit\":1,\"answers\":[{\"te");
        using (var journal = GenerationJournal.Open(path))
        {
            Assert.Equal(2, journal.Entries.Count);
            Assert.Equal(good, new FileInfo(path).Length);
            Assert.True(journal.CutBytes > 0);
            journal.Append(Unit(1));
        }
        using var again = GenerationJournal.Open(path);
        Assert.Equal(3, again.Entries.Count);
        Assert.Equal(0, again.CutBytes);
    }

    [Fact]
    public void DamagedMiddleLine_IsAnError()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "out.journal.jsonl");
        using (var journal = GenerationJournal.Open(path))
        {
            journal.Append(Header);
            journal.Append(Unit(0));
        }
        var lines = File.ReadAllLines(path);
        File.WriteAllText(path, lines[0] + "\n{\"kind\":\"alpaca\",\"unit\":0,\"ans\n" + lines[1] + "\n", new UTF8Encoding(false));
        var e = Assert.Throws<DataFormatException>(() => GenerationJournal.Open(path));
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void SecondWriter_IsRefused()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "out.journal.jsonl");
        using var first = GenerationJournal.Open(path);
        var e = Assert.Throws<IOException>(() => GenerationJournal.Open(path));
        Assert.Contains("in use", e.Message);
    }

    [Fact]
    public void PathFor_ReplacesTheExtension()
    {
        Assert.Equal(Path.Combine("d", "data.journal.jsonl"), GenerationJournal.PathFor(Path.Combine("d", "data.json")));
        Assert.Equal("data.journal.jsonl", GenerationJournal.PathFor("data.jsonl"));
    }
}
