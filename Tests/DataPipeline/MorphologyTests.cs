using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.DataPipeline;

public class MorphologyTests
{
    private static Slice2D<byte> Rect(int h, int w, int y0, int x0, int rows, int cols)
    {
        var mask = new Slice2D<byte>(h, w);
        for (var y = y0; y < y0 + rows; y++)
            for (var x = x0; x < x0 + cols; x++) mask[y, x] = 1;
        return mask;
    }

    [Fact]
    public void EllipticalKernelsMatchOpenCv()
    {
        Assert.Equal(5, Morphology.Ellipse(1).Length); // 3 × 3 cross
        Assert.Equal(17, Morphology.Ellipse(2).Length); // rows 1, 5, 5, 5, 1
        Assert.Equal(33, Morphology.Ellipse(3).Length); // rows 1, 5, 7, 7, 7, 5, 1
        Assert.DoesNotContain((1, 1), Morphology.Ellipse(1));
        Assert.DoesNotContain((-2, -1), Morphology.Ellipse(2));
        Assert.Contains((-2, 2), Morphology.Ellipse(3));
    }

    [Fact]
    public void ErodeAndDilateBySmallCases()
    {
        var square = Rect(9, 9, 2, 2, 5, 5);
        Assert.Equal(Rect(9, 9, 3, 3, 3, 3).Data, Morphology.Erode(square, Morphology.Ellipse(1)).Data);
        var dot = Rect(9, 9, 4, 4, 1, 1);
        var plus = Morphology.Dilate(dot, Morphology.Ellipse(1));
        Assert.Equal(5, Morphology.Count(plus));
        Assert.Equal(1, plus[3, 4]);
        Assert.Equal(0, plus[3, 3]);
        // The slice edge does not erode (outside counts as foreground, as OpenCV's default border).
        Assert.Equal(Rect(9, 9, 0, 0, 2, 9).Data, Morphology.Erode(Rect(9, 9, 0, 0, 3, 9), Morphology.Ellipse(1)).Data);
    }

    [Theory]
    [InlineData(Direction.Right, 0, 2)]
    [InlineData(Direction.Left, 0, -2)]
    [InlineData(Direction.Down, 2, 0)]
    [InlineData(Direction.Up, -2, 0)]
    public void BoundaryShiftMovesARectangle(Direction side, int dy, int dx)
    {
        var rect = Rect(40, 40, 10, 10, 10, 20);
        var shifted = Morphology.ShiftBoundary(rect, 2, side);
        Assert.Equal(Rect(40, 40, 10 + dy, 10 + dx, 10, 20).Data, shifted.Data);
    }

    [Fact]
    public void FillHolesAndPruneComponents()
    {
        var ring = Rect(10, 10, 2, 2, 6, 6);
        foreach (var (y, x) in new[] { (4, 4), (4, 5), (5, 4), (5, 5) }) ring[y, x] = 0;
        Assert.Equal(Rect(10, 10, 2, 2, 6, 6).Data, Morphology.FillHoles(ring).Data);
        var open = Rect(10, 10, 0, 0, 3, 3);
        open[1, 1] = 0;
        open[0, 1] = 0; // the hole touches the edge, so it is not a hole
        Assert.Equal(open.Data, Morphology.FillHoles(open).Data);

        var two = Rect(12, 12, 0, 0, 2, 2); // 4 px
        for (var y = 6; y < 11; y++) for (var x = 6; x < 10; x++) two[y, x] = 1; // 20 px
        two[2, 2] = 1; // touches the small block only diagonally: its own 1-px component
        var pruned = Morphology.PruneComponents(two, 5);
        Assert.Equal(20, Morphology.Count(pruned));
        Assert.Equal(0, pruned[0, 0]);
        Assert.Equal(25, Morphology.Count(Morphology.PruneComponents(two, 1)));
    }

    [Fact]
    public void BlurThresholdKeepsALargeShape()
    {
        var rect = Rect(30, 30, 5, 5, 20, 20);
        var blurred = Morphology.BlurThreshold(rect, 1.5);
        var changed = rect.Data.Zip(blurred.Data).Count(p => p.First != p.Second);
        Assert.InRange(changed, 1, 12); // only the corners are rounded off
    }

    [Fact]
    public void AnOperationThatEmptiesTheMaskIsUndone()
    {
        var small = Rect(20, 20, 5, 5, 2, 2);
        var style = new RaterStyle(MaskOperation.Erosion(3), MaskOperation.Dilation(1));
        Assert.Equal(Morphology.Dilate(small, Morphology.Ellipse(1)).Data, style.Apply(small).Data);
        Assert.Equal(0, Morphology.Count(style.Apply(new Slice2D<byte>(20, 20))));
    }

    [Fact]
    public void SimulatedRatersAreSystematic()
    {
        var organ = Rect(40, 40, 10, 10, 12, 15);
        var raters = SimulatedRaters.Default.Select(s => s.Apply(organ)).ToArray();
        Assert.True(Morphology.Count(raters[0]) > Morphology.Count(organ));
        Assert.True(Morphology.Count(raters[1]) < Morphology.Count(organ));
        Assert.Equal(Rect(40, 40, 10, 12, 12, 15).Data, raters[2].Data);
    }

    [Fact]
    public void PseudoStylesFollowTheJapcMixture()
    {
        var g = new Generator(3);
        var styles = Enumerable.Range(0, 3000).Select(_ => PseudoStyles.Draw(g, new PseudoStyleOptions())).ToArray();
        var single = styles.Count(s => s.Operations.Count == 1) / 3000.0;
        Assert.InRange(single, 0.57, 0.63);
        Assert.All(styles, s => Assert.InRange(s.Operations.Count, 1, 2));
        Assert.All(styles.Where(s => s.Operations.Count == 2), s => Assert.DoesNotContain(s.Operations, o => o.Kind == MaskOperationKind.GaussianBlur));
        Assert.Equal(Enum.GetValues<MaskOperationKind>().Length, styles.Where(s => s.Operations.Count == 1).Select(s => s.Operations[0].Kind).Distinct().Count());
        Assert.All(styles.SelectMany(s => s.Operations).Where(o => o.Kind == MaskOperationKind.GaussianBlur), o => Assert.InRange(o.Sigma, 0.5, 2.0));
        var again = new Generator(3);
        Assert.Equal(styles[0].Operations, PseudoStyles.Draw(again, new PseudoStyleOptions()).Operations);
    }
}
