using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Preprocessing;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Preprocessing;

public class PreprocessingUnitTests
{
    [Theory]
    [InlineData(20, 3.0, 7.7, 8)]   // int(20·3/7.7 + 1) = int(8.79)
    [InlineData(448, 1.0, 1.75, 257)] // SABS: the +1 gives 257
    [InlineData(30, 3.0, 3.0, 31)]  // unchanged spacing still adds one
    public void OutputSizeFollowsTheReferenceFormula(int n, double oldSp, double newSp, int expected) =>
        Assert.Equal(expected, LinearResampler.OutputSize(n, oldSp, newSp));

    [Fact]
    public void HandComputedLinearCaseWithZeroBeyondTheLastHalfVoxel()
    {
        // 1D along x: values 0, 10, 20 at spacing 1, resampled to 0.75: size int(3/0.75 + 1) = 5,
        // positions 0, 0.75, 1.5, 2.25 (clamped to the last voxel), 3 (beyond 2.5, so 0).
        var input = new Volume<double>(3, 1, 1, [0, 10, 20]);
        var output = LinearResampler.Resample(input, [1, 1, 1], [0.75, 1, 1], SampleCast.None);
        Assert.Equal([5, 2, 2], new[] { output.Width, output.Height, output.Depth });
        Assert.Equal([0, 7.5, 15, 20, 0], output.Data.Take(5));
        Assert.All(output.Data.Skip(5), v => Assert.Equal(0, v)); // y and z index 1 are beyond 0.5
    }

    [Fact]
    public void CentreCropAndPadAroundTheMiddleIndex()
    {
        var wide = new Volume<int>(6, 1, 1, [0, 1, 2, 3, 4, 5]);
        // size 3: offset 6/2 − 4/2 = 1, so x 1..3; y: offset 0 − 2 → rows −2..0, only row 2 comes from row 0.
        var cropped = CentreCrop.CropOrPad(wide, 3, -1);
        Assert.Equal([-1, -1, -1, -1, -1, -1, 1, 2, 3], cropped.Data);
        // Padding 4 → 8: offset 2 − 4 = −2, so two pad columns before and two after.
        var narrow = new Volume<int>(4, 8, 1, Enumerable.Range(0, 32).ToArray());
        var padded = CentreCrop.CropOrPad(narrow, 8, -1);
        Assert.Equal([-1, -1, 0, 1, 2, 3, -1, -1], padded.Data.Take(8));
        Assert.Equal(22, CentreCrop.Offset(300, 256));
    }

    [Fact]
    public void BorderCropAndLabelMapping()
    {
        var v = new Volume<int>(4, 3, 1, Enumerable.Range(0, 12).ToArray());
        Assert.Equal([5, 6], BorderCrop.Crop(v, 1, "v").Data);
        Assert.Throws<DataFormatException>(() => BorderCrop.Crop(v, 2, "v"));
        Assert.Equal([0, 4, 0, 1, 0], LabelMapping.Parse("1:4, 5:1").Apply([0, 1, 2, 5, 7]));
        Assert.Throws<FormatException>(() => LabelMapping.Parse("1:4,1:2"));
        Assert.Throws<FormatException>(() => LabelMapping.Parse("1-4"));
        Assert.Throws<FormatException>(() => LabelMapping.Parse("3:0"));
    }

    [Fact]
    public void IntegerMrClipTruncatesTheThreshold()
    {
        var values = Enumerable.Range(0, 11).Select(v => (double)v).ToArray(); // 99.5th percentile = 9.95
        Assert.Equal(9, PercentileClip.Clip(values, 99.5, integerImage: true)[10]);
        Assert.Equal(9.95, PercentileClip.Clip(values, 99.5, integerImage: false)[10], 12);
    }

    [Fact]
    public void HeaderKeepsOriginAndDirectionWithTheNewSpacing()
    {
        var image = Nifti.Read(TestData("example_ct_sm.nii.gz"));
        var scan = Preprocessor.Prepare(image, Nifti.Read(TestData("example_seg.nii.gz")), PreprocessOptions.Mr with { LabelMap = LabelMapping.Parse("5:1") });
        var (before, after) = (image.Affine, scan.Image.Affine);
        for (var row = 0; row < 3; row++)
        {
            Assert.Equal(before[row, 3], after[row, 3], 4);
            for (var col = 0; col < 3; col++)
                Assert.Equal(before[row, col] * (col == 2 ? 7.7 : 1.25) / 3.0, after[row, col], 4);
        }
        Assert.Equal(scan.Image.Affine, scan.Label.Affine);
        Assert.Equal([1.25, 1.25, 7.7], scan.Image.Spacing.Select(s => Math.Round(s, 5)));
    }

    [Fact]
    public void ConstantCtImageIsAnErrorNamingTheFile()
    {
        var flat = NiftiImage.Create([4, 4, 2], [1, 1, 1], NiftiDataType.Int16, new double[32]);
        var e = Assert.Throws<DataFormatException>(() => HuWindow.Normalize(flat.GetData(), -125, 275, "flat.nii.gz"));
        Assert.StartsWith("flat.nii.gz: ", e.Message);
    }
}
