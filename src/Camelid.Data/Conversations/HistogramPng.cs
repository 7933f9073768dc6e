using ScottPlot;

namespace Camelid.Data.Conversations;

/// <summary>Draws the conversation-length histogram as a PNG with ScottPlot (rendered by SkiaSharp, whose native library ships in the package).</summary>
public static class HistogramPng
{
    public static void Write(ConversationStatistics stats, string path, string title, int width = 900, int height = 500)
    {
        var histogram = stats.Histogram;
        var plot = new Plot();
        var bars = histogram.Counts.Select((count, i) => new Bar
        {
            Position = (i + 0.5) * histogram.BinWidth,
            Value = count,
            Size = histogram.BinWidth,
            FillColor = Colors.SteelBlue,
            LineColor = Colors.White,
            LineWidth = 1,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.XLabel($"conversation length ({stats.LengthUnit}), bins of {histogram.BinWidth}");
        plot.YLabel("conversations");
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null)
            Directory.CreateDirectory(directory);
        plot.SavePng(path, width, height);
    }
}
