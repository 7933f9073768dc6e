using ScottPlot;

namespace Camelid.Training.Reporting;

/// <summary>The training and validation loss curves of a run as a PNG (ScottPlot), written beside the checkpoints.</summary>
public static class LossChart
{
    public static void Write(IReadOnlyList<StepMetrics> train, IReadOnlyList<ValidationMetrics> validation, string path, string title)
    {
        var plot = new Plot();
        if (train.Count > 0)
        {
            var line = plot.Add.Scatter(train.Select(m => (double)m.Step).ToArray(), train.Select(m => m.Loss).ToArray());
            line.LegendText = "training loss";
            line.MarkerSize = train.Count > 50 ? 0 : 4;
            line.Color = Colors.SteelBlue;
        }
        if (validation.Count > 0)
        {
            var line = plot.Add.Scatter(validation.Select(m => (double)m.Step).ToArray(), validation.Select(m => m.ValidationLoss).ToArray());
            line.LegendText = "validation loss";
            line.MarkerSize = 6;
            line.Color = Colors.OrangeRed;
        }
        plot.Title(title);
        plot.XLabel("optimizer step");
        plot.YLabel("cross-entropy (nats per trained token)");
        plot.ShowLegend(Alignment.UpperRight);
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 900, 500);
        File.Move(temp, path, overwrite: true);
    }
}
