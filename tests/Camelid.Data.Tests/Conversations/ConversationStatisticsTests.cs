using System.Text.Json;
using System.Text.RegularExpressions;
using Camelid.Data.Conversations;
using Camelid.Data.Formats;
using Camelid.Tests;
using SkiaSharp;
using static Camelid.Data.Tests.Conversations.Conv;

namespace Camelid.Data.Tests.Conversations;

public class ConversationStatisticsTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task HandMadeFile_WordCountsAndHistogram()
    {
        string path = Path.Combine(_dir, "s.jsonl");
        DataFile.Write(path, new[]
        {
            Of("a", H("one two"), G("three four five")),                      // 5 words
            Of("b", H("a"), G("b"), H("c d e f"), G("")),                    // 6 words, one empty turn
            Of("c", H(string.Join(' ', Enumerable.Repeat("w", 30))), G("x")), // 31 words
        });
        var stats = await ConversationStatisticsBuilder.ComputeAsync(path, null, histogramBins: 4);
        Assert.Equal(3, stats.Records);
        Assert.Equal(8, stats.Turns);
        Assert.Equal(4, stats.TurnsByRole["human"]);
        Assert.Equal(1, stats.EmptyTurns);
        Assert.Equal([(2, 2), (4, 1)], stats.TurnsPerConversation.Select(p => (p.Key, p.Value)));
        Assert.Equal("words", stats.LengthUnit);
        Assert.Equal((5, 6, 31, 42L), (stats.ConversationLengths.Min, stats.ConversationLengths.Median, stats.ConversationLengths.Max, stats.ConversationLengths.Total));
        // max 31 over at most 4 bins: width 10 (the nice number ≥ 32/4 = 8), bins 0–9, 10–19, 20–29, 30–39.
        Assert.Equal(10, stats.Histogram.BinWidth);
        Assert.Equal([2, 0, 0, 1], stats.Histogram.Counts);
    }

    [SharedDataFact(Conv.DummyFile, "tokenizers/llama2c/tokenizer.model")]
    public async Task DummyFile_TokenCountsMatchTheTokenizer_AndThePngIsARealImage()
    {
        var tokenizer = DataTokenizer.Load(null, TestPaths.Shared("tokenizers/llama2c/tokenizer.model"));
        var counter = new ConversationTokenCounter(tokenizer, null);
        var stats = await ConversationStatisticsBuilder.ComputeAsync(TestPaths.Shared(Conv.DummyFile), counter);

        // Reference: the raw JSON parsed independently, each text encoded directly.
        using var raw = JsonDocument.Parse(File.ReadAllText(TestPaths.Shared(Conv.DummyFile)));
        var lengths = raw.RootElement.EnumerateArray().Select(c => 1 + c.GetProperty("conversations").EnumerateArray()
            .Sum(t => tokenizer.Encode(t.GetProperty("value").GetString()!, addBos: false).Length)).ToList();
        Assert.Equal(500, stats.Records);
        Assert.Equal(lengths.Sum(v => (long)v), stats.ConversationLengths.Total);
        Assert.Equal(lengths.Max(), stats.ConversationLengths.Max);
        Assert.Equal(lengths.Min(), stats.ConversationLengths.Min);
        Assert.Equal(500, stats.Histogram.Counts.Sum());
        Assert.Equal([(2, 167), (4, 166), (6, 167)], stats.TurnsPerConversation.Select(p => (p.Key, p.Value)));
        Assert.Equal("tokens", stats.LengthUnit);

        string png = Path.Combine(_dir, "plots", "hist.png");
        HistogramPng.Write(stats, png, "dummy", 640, 400);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        using var image = SKBitmap.Decode(bytes);
        Assert.NotNull(image);
        Assert.Equal((640, 400), (image.Width, image.Height));
        // Bars are drawn: a good share of the pixels are the bar colour (steel blue, 70,130,180).
        int bar = 0;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                if (image.GetPixel(x, y) is { Red: 70, Green: 130, Blue: 180 })
                    bar++;
        Assert.True(bar > 640 * 400 / 50, $"{bar} bar pixels");
    }

    [Fact]
    public void Report_ListsTheNumbers()
    {
        var stats = new ConversationStatistics(2, new Dictionary<string, int> { ["sharegpt"] = 2 }, new Dictionary<string, int> { ["gpt"] = 2, ["human"] = 2 },
            new Dictionary<int, int> { [2] = 2 }, 0, "words", LengthSummary.Of([3, 9]), new Dictionary<string, LengthSummary>(), new LengthHistogram(5, [1, 1]));
        string text = StatisticsReport.Format(stats, "f.json");
        Assert.Contains("f.json: 2 records (sharegpt 2)", text);
        Assert.Contains("turns: 4 (gpt 2, human 2)", text);
        Assert.Matches(new Regex(@"conversation\s+2\s+3\s+6\.0\s+3\s+9\s+9\s+9\s+12"), text);
        Assert.Matches(new Regex(@" 0– 4 +█+ 1\n"), text);
        Assert.Matches(new Regex(@" 5– 9 +█+ 1\n"), text);
    }
}
