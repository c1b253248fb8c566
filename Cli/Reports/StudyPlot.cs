using ScottPlot;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// A strip plot of a study (ScottPlot): one column per arm and organ, each unit's Dice difference to the control as a
/// dot (spread sideways by rank so equal values stay visible), the paired mean as a bar with its interval, zero dashed.
/// </summary>
public static class StudyPlot
{
    public static byte[] Png(IReadOnlyList<UnitDelta> units, IReadOnlyList<PairedDelta> paired, int width = 1000, int height = 460)
    {
        var columns = paired.Select(p => (p.Arm, p.Organ)).Concat(units.Select(u => (u.Arm, u.Organ))).Distinct().ToArray();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var arms = columns.Select(c => c.Arm).Distinct().ToList();
        for (int i = 0; i < columns.Length; i++)
        {
            var (arm, organ) = columns[i];
            var color = palette.GetColor(arms.IndexOf(arm));
            var deltas = units.Where(u => u.Arm == arm && u.Organ == organ).Select(u => 100 * u.Delta).Order().ToArray();
            if (deltas.Length > 0)
            {
                var xs = deltas.Select((_, k) => i + (deltas.Length == 1 ? 0 : 0.5 * k / (deltas.Length - 1) - 0.25)).ToArray();
                plot.Add.Markers(xs, deltas, MarkerShape.FilledCircle, 6, color.WithAlpha(0.6));
            }
            if (paired.FirstOrDefault(p => p.Arm == arm && p.Organ == organ) is { } p)
            {
                var interval = plot.Add.Line(i + 0.33, 100 * p.CiLow, i + 0.33, 100 * p.CiHigh);
                interval.Color = Colors.Black;
                interval.LineWidth = 2;
                plot.Add.Markers(new[] { i + 0.33 }, new[] { 100 * p.MeanDelta }, MarkerShape.FilledSquare, 8, Colors.Black);
            }
        }
        plot.Add.HorizontalLine(0, 1, Colors.Gray, LinePattern.Dashed);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, columns.Length).Select(i => (double)i).ToArray(), columns.Select(c => $"{c.Arm}\n{c.Organ}").ToArray());
        plot.Axes.SetLimitsX(-0.6, columns.Length - 0.4);
        plot.YLabel("Dice difference to control (points)");
        plot.Title("per-unit differences (dots), paired mean with interval (black)");
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
