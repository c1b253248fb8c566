using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

public class AlpHeadTests
{
    /// <summary>A [1, 1, 64, 64] mask whose foreground is the square [r0, r1) × [c0, c1).</summary>
    private static Tensor SquareMask(int r0, int r1, int c0, int c1, DType dtype = DType.Float64)
    {
        var m = new double[64 * 64];
        for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++) m[r * 64 + c] = 1;
        return Tensor.FromArray(m, [1, 1, 64, 64]).To(dtype);
    }

    [Fact]
    public void MaskToGridPointSamplesLikeBilinearDownsampling()
    {
        // 64 → 8: output row i reads input 8i + 3.5, the mean of pixels 8i+3 and 8i+4 (PROTOCOL §2.2), not the
        // window average. Foreground rows 0..25: grid row 2 (pixels 19, 20) is 1; row 3 (27, 28) is 0, where an
        // area average would give 2/8.
        var grid = Prototypes.MaskToGrid(SquareMask(0, 26, 0, 64), 8, 8).ToArray<double>();
        Assert.Equal(1.0, grid[2 * 8]);
        Assert.Equal(0.0, grid[3 * 8]);
    }

    [Fact]
    public void ForegroundModeDependsOnAFullyCoveredCell()
    {
        var head = new AlpHead(AlpConfig.Default);
        var features = new Variable(Tensor.Normal([1, 8, 8, 8], new Generator(1), dtype: DType.Float64));
        var (bigFg, _) = AlpHead.Grids(SquareMask(0, 40, 0, 40), 8, 8);
        Assert.True(head.Foreground(features, bigFg, training: true).UsesLocal);
        var (smallFg, _) = AlpHead.Grids(SquareMask(8, 20, 8, 20), 8, 8);
        var fg = head.Foreground(features, smallFg, training: true);
        Assert.False(fg.UsesLocal);
        Assert.Equal([1, 8], fg.Prototypes.Shape);
    }

    [Fact]
    public void EmptyBackgroundIsReportedNotSwallowed()
    {
        var head = new AlpHead(AlpConfig.Default);
        var features = new Variable(Tensor.Normal([1, 8, 8, 8], new Generator(2), dtype: DType.Float64));
        var (_, bg) = AlpHead.Grids(SquareMask(0, 64, 0, 64), 8, 8);
        Assert.Throws<EmptyPrototypeSetException>(() => head.Background(features, bg, training: true));
    }

    [Fact]
    public void HeadGradientsPassTheCheck()
    {
        var head = new AlpHead(AlpConfig.Default);
        var mask = SquareMask(0, 32, 0, 32); // one fully foreground 4×4 cell, three fully background
        var result = GradCheck.Check(v => head.Forward(v[0], mask, v[1], training: true),
            [Tensor.Normal([1, 6, 8, 8], new Generator(3), dtype: DType.Float64), Tensor.Normal([1, 6, 8, 8], new Generator(4), dtype: DType.Float64)]);
        Assert.True(result.Passed, result.Message);
    }

    [Fact]
    public void IdenticalSupportAndQuerySegmentTheSupportRegion()
    {
        // With the query equal to the support, features inside the region match the fg prototypes best.
        var head = new AlpHead(AlpConfig.Default);
        var g = new Generator(5);
        var fgFeature = Tensor.Normal([8, 1, 1], g, dtype: DType.Float64);
        var bgFeature = Tensor.Normal([8, 1, 1], g, dtype: DType.Float64);
        var mask = SquareMask(0, 32, 0, 32);
        var grid = Prototypes.MaskToGrid(mask, 8, 8);
        var features = Ops.Add(Ops.Mul(grid.Reshape(1, 1, 8, 8), fgFeature.Reshape(1, 8, 1, 1)),
            Ops.Mul(Ops.AddScalar(Ops.Neg(grid), 1).Reshape(1, 1, 8, 8), bgFeature.Reshape(1, 8, 1, 1)));
        features = Ops.Add(features, Ops.MulScalar(Tensor.Normal([1, 8, 8, 8], g, dtype: DType.Float64), 0.05));
        var logits = head.Forward(new Variable(features), mask, new Variable(features), training: false).Data.ToArray<double>();
        var g2 = grid.ToArray<double>();
        for (int i = 0; i < 64; i++) Assert.Equal(g2[i] > 0.5, logits[64 + i] > logits[i]);
    }
}
