using IlgpuSeg.Cli.Training;
using ScottPlot;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// The training curves of a run (ScottPlot): every loss term the run used against iteration, smoothed, with the raw
/// values faint behind; the learning rate on the right axis; for JAPC a vertical line where stage 2 (calibration) starts.
/// </summary>
public static class CurvesPlot
{
    public const string FileName = "curves.png";

    /// <summary>The iteration where JAPC switches to stage 2, for JAPC heads; null otherwise.</summary>
    public static double? StageSwitch(TrainConfig config) =>
        Trainer.RatersFor(config) > 1
            ? Enumerable.Range(0, config.Iterations).Where(i => config.Japc.CalibratesAt(i, config.Iterations)).Select(i => (double?)i).FirstOrDefault()
            : null;

    public static byte[] Png(MetricsTable metrics, double? stageSwitch, int width = 900, int height = 420)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var terms = metrics.UsedLosses().Select((l, i) => (l.Name, Points: Finite(metrics.Iteration, l.Values), Color: palette.GetColor(i)))
            .Where(t => t.Points.X.Length > 0).ToArray();
        // Every raw curve first, then every smoothed one on top, so no raw band hides a smoothed line.
        foreach (var (_, (xs, ys), color) in terms)
            plot.Add.ScatterLine(xs, ys, color.WithAlpha(xs.Length > 1000 ? 0.15 : 0.25)).LineWidth = 1;
        foreach (var (name, (xs, ys), color) in terms)
        {
            var smooth = plot.Add.ScatterLine(xs, Smoothed(ys), color);
            smooth.LineWidth = 2;
            smooth.LegendText = name;
        }
        if (metrics.Iteration.Length > 0)
        {
            var lr = plot.Add.ScatterLine(metrics.Iteration, metrics.LearningRate, Colors.Gray);
            lr.LinePattern = LinePattern.Dashed;
            lr.LegendText = "learning rate (right)";
            lr.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "learning rate";
        }
        if (stageSwitch is double s)
        {
            var line = plot.Add.VerticalLine(s, 1.5f, Colors.Black, LinePattern.Dotted);
            line.LegendText = "JAPC stage 2 starts";
        }
        plot.XLabel("iteration");
        plot.YLabel("loss");
        int skipped = metrics.SkipNotes.Count;
        plot.Title(skipped > 0 ? $"training curves ({skipped} skipped episode{(skipped == 1 ? "" : "s")})" : "training curves");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    private static (double[] X, double[] Y) Finite(double[] x, double[] y)
    {
        var keep = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(y[i])).ToArray();
        return (keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray());
    }

    /// <summary>Trailing moving average over about a fiftieth of the run (at least one point).</summary>
    private static double[] Smoothed(double[] y)
    {
        int window = Math.Max(1, y.Length / 50);
        var result = new double[y.Length];
        double sum = 0;
        for (int i = 0; i < y.Length; i++)
        {
            sum += y[i];
            if (i >= window) sum -= y[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
