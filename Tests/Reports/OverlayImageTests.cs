using IlgpuSeg.Cli.Reports;
using IlgpuSeg.Data.Dataset;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace IlgpuSeg.Tests.Reports;

/// <summary>The figures the evaluation writes: contours where the masks' edges are, panels side by side, heat maps the right way up.</summary>
public class OverlayImageTests
{
    [Fact]
    public void ContoursAreDrawnOnTheMaskEdgesAndTheSliceIsScaledByWholePixels()
    {
        var image = new Slice2D<float>(16, 16, Enumerable.Range(0, 256).Select(i => (float)(i % 16)).ToArray());
        var truth = new Slice2D<byte>(16, 16);
        var prediction = new Slice2D<byte>(16, 16);
        for (int y = 4; y < 8; y++) for (int x = 4; x < 8; x++) truth[y, x] = 1;
        for (int y = 9; y < 13; y++) for (int x = 9; x < 13; x++) prediction[y, x] = 1;
        using var rendered = OverlayImage.Render(image, prediction, truth, minSize: 64);
        Assert.Equal((64, 64), (rendered.Width, rendered.Height));
        using var decoded = Image.Load<Rgb24>(OverlayImage.Png(rendered));
        Assert.Equal(new Rgb24(40, 230, 40), decoded[4 * 4, 4 * 4]);        // truth corner: edge
        Assert.Equal(new Rgb24(255, 40, 40), decoded[9 * 4 + 3, 12 * 4]);   // prediction bottom edge
        var inside = decoded[5 * 4 + 1, 5 * 4 + 1];                          // truth interior: the grey slice
        Assert.Equal(inside.R, inside.G);
        Assert.Equal((byte)(255f / 15 * 5), inside.R);
    }

    [Fact]
    public void PanelsGoSideBySideWithAGap()
    {
        var slice = new Slice2D<float>(8, 8, Enumerable.Range(0, 64).Select(i => (float)i).ToArray());
        var panels = Enumerable.Range(0, 3).Select(_ => OverlayImage.Render(slice, null, null, minSize: 32)).ToArray();
        using var montage = OverlayImage.SideBySide(panels, gap: 4);
        Assert.Equal((3 * 32 + 2 * 4, 32), (montage.Width, montage.Height));
        Assert.Equal(new Rgb24(255, 255, 255), montage[33, 10]);
        Assert.Equal(panels[0][31, 31], montage[2 * 36 + 31, 31]);
        foreach (var p in panels) p.Dispose();
    }

    [Fact]
    public void UncertaintyHeatMapShowsRowZeroAtTheTopLikeTheOverlays()
    {
        var map = new Slice2D<float>(20, 20);
        for (int x = 0; x < 20; x++) for (int y = 0; y < 5; y++) map[y, x] = 0.2f;
        using var png = Image.Load<Rgb24>(UncertaintyPlot.Png(map, "test"));
        // Inferno: high values are bright, zero is near black; sample the middle column near the top and bottom of the plot.
        int x0 = png.Width / 3;
        double Brightness(int y) { var p = png[x0, y]; return p.R + p.G + p.B; }
        double top = Enumerable.Range(png.Height / 5, 10).Average(Brightness), bottom = Enumerable.Range(png.Height * 4 / 5, 10).Average(Brightness);
        Assert.True(top > bottom + 100, $"top {top}, bottom {bottom}");
    }
}

public class RaterOverlayTests
{
    [Fact]
    public void JapcEvaluationShowsEachRatersPredictionSideBySide()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-japc").FullName;
        try
        {
            var eval = Path.Combine(TinyRun.Create(root, "japc", 4), "eval");
            var montages = Directory.GetFiles(eval, "raters_*.png");
            Assert.Equal(4 * 2, montages.Length); // 4 query scans × 2 organs
            using var montage = Image.Load<Rgb24>(montages[0]);
            File.Copy(montages[0], Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artefacts")).FullName, "japc-raters.png"), overwrite: true);
            Assert.Equal((3 * 256 + 2 * 8, 256), (montage.Width, montage.Height)); // three 32² slices scaled ×8, 8 px gaps
            Assert.Empty(Directory.GetFiles(eval, "uncertainty_*.png")); // no DPL in this head
            var (exit, _, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(IlgpuSeg.Cli.Commands.ReportCommand.Create(), "report", Path.GetDirectoryName(eval)!);
            Assert.True(exit == 0, err);
            var html = File.ReadAllText(Path.Combine(Path.GetDirectoryName(eval)!, "report.html"));
            Assert.Contains("<th>rater 3</th>", html);
            Assert.Equal(8, html.Split("alt=\"raters scan").Length - 1);
        }
        finally { Directory.Delete(root, true); }
    }
}
