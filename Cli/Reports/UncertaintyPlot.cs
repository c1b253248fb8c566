using IlgpuSeg.Data.Dataset;
using ScottPlot;

namespace IlgpuSeg.Cli.Reports;

/// <summary>DPL's per-pixel uncertainty (variance over its prototype variants) of a query slice as a heat map with a colour bar (ScottPlot).</summary>
public static class UncertaintyPlot
{
    public static byte[] Png(Slice2D<float> uncertainty, string title, int width = 420, int height = 360)
    {
        var values = new double[uncertainty.Height, uncertainty.Width];
        for (int y = 0; y < uncertainty.Height; y++)
            for (int x = 0; x < uncertainty.Width; x++)
                values[y, x] = uncertainty[y, x];
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Inferno();
        plot.Add.ColorBar(heatmap).Label = "variance of p(fg)";
        plot.Title(title);
        plot.Axes.Frameless();
        plot.HideGrid();
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
