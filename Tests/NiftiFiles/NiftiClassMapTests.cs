using IlgpuSeg.Data;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.NiftiFiles;

public class NiftiClassMapTests
{
    /// <summary>The organ entries of classmap_1.json list exactly the slices where the label map has that label.</summary>
    [Theory]
    [InlineData(15)]
    [InlineData(39)]
    public void OrganSlicesMatchTheLabelMap(int pid)
    {
        var map = ClassMap.Read(TestDataDir, 1);
        var label = Nifti.Read(TestData($"label_{pid}.nii.gz"));
        var data = label.GetData();
        var (nx, ny, nz) = (label.Shape[0], label.Shape[1], label.Shape[2]);
        string[] organs = ["LIVER", "RK", "LK", "SPLEEN"]; // label values 1..4
        for (var k = 1; k <= organs.Length; k++)
        {
            var slices = Enumerable.Range(0, nz)
                .Where(z => data.AsSpan(z * nx * ny, nx * ny).Contains(k))
                .ToArray();
            Assert.Equal(slices, map.SlicesOf(organs[k - 1], pid));
        }
    }

    [Fact]
    public void UnknownLabelOrScanHasNoSlices()
    {
        var map = ClassMap.Read(TestDataDir, 1);
        Assert.Empty(map.SlicesOf("LIVER", 999));
        Assert.Empty(map.SlicesOf("HEART", 15));
        Assert.Equal(["BG", "LIVER", "RK", "LK", "SPLEEN"], map.Slices.Keys);
    }
}
