using IlgpuSeg.Data.Superpixels;
using static IlgpuSeg.Tests.Superpixels.SuperpixelFixtures;

namespace IlgpuSeg.Tests.Superpixels;

public class BodyMaskTests
{
    /// <summary>Parses rows of '#' (above the threshold, value 100) and '.' (0) into a slice.</summary>
    private static (double[] Values, int Height, int Width) Picture(params string[] rows)
    {
        var values = rows.SelectMany(r => r.Select(c => c == '#' ? 100.0 : 0.0)).ToArray();
        return (values, rows.Length, rows[0].Length);
    }

    private static string[] Draw(bool[] mask, int width) =>
        mask.Chunk(width).Select(row => new string(row.Select(b => b ? '#' : '.').ToArray())).ToArray();

    private static string[] MaskOf(params string[] rows)
    {
        var (values, height, width) = Picture(rows);
        return Draw(BodyMask.Compute(values, height, width, threshold: 50), width);
    }

    [Fact]
    public void MatchesScipyOnEveryTestSlice()
    {
        var mismatches = new List<string>();
        foreach (var s in Slices)
        {
            var (values, height, width) = Slice(s.Pid, s.Z);
            var mask = BodyMask.Compute(values, height, width, FgThresh);
            if (Sha256(mask) != s.MaskSha256)
                mismatches.Add($"pid {s.Pid} slice {s.Z} ({mask.Count(b => b)} pixels, scipy {s.MaskPixels})");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {Slices.Count} masks differ: {string.Join("; ", mismatches)}");
    }

    [Fact]
    public void KeepsTheLargestEightConnectedComponent()
    {
        // The diagonal chain is one component under 8-connectivity (skimage.measure.label's default), and larger
        // than the 2x2 block; under 4-connectivity it would be five single pixels.
        Assert.Equal(["#....", ".#...", "..#..", "...#.", "....#", "....."],
            MaskOf("#....", ".#...", "..#..", "...#.", "....#", "##..."));
    }

    [Fact]
    public void EqualComponentsGoToTheOneFoundFirstInRowMajorOrder()
    {
        // skimage numbers components by their first pixel in row-major order and argmax takes the first maximum.
        Assert.Equal(["....###", ".......", ".......", "......."],
            MaskOf("....###", ".......", ".......", "###...."));
    }

    [Fact]
    public void FillsHolesButNotBackgroundOpenToTheBorder()
    {
        // The centre is enclosed; the notch on the right reaches the border. A diagonal gap does not let the
        // background out: binary_fill_holes floods the background 4-connected.
        Assert.Equal(["......", ".####.", ".####.", ".###..", ".####.", "......"],
            MaskOf("......", ".####.", ".#..#.", ".#.#..", ".####.", "......"));
    }

    [Fact]
    public void NothingAboveTheThresholdGivesAnEmptyMask()
    {
        var mask = BodyMask.Compute(new double[12], 3, 4, BodyMask.ChaosMriThreshold);
        Assert.All(mask, Assert.False);
    }

    [Fact]
    public void ThresholdIsStrict() =>
        Assert.All(BodyMask.Compute([50, 50, 50, 50], 2, 2, threshold: 50), Assert.False);
}
