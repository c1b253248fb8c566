using System.Security.Cryptography;
using IlgpuSeg.Data;
using IlgpuSeg.Tests.Support;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.NiftiFiles;

/// <summary>The reader against nibabel: every value tools/nifti_expected.py recorded, for every real file.</summary>
public class NiftiExpectedValuesTests
{
    public static TheoryData<string> TestDataFiles => new(TestDataExpected.Keys);

    public static TheoryData<string> SharedFiles => new(SharedExpected.Keys);

    [Theory]
    [MemberData(nameof(TestDataFiles))]
    public void CommittedTestDataMatchesNibabel(string name) =>
        AssertMatches(TestDataExpected[name], Nifti.Read(TestData(name)));

    [TheoryNeeds(Need.SharedData)]
    [MemberData(nameof(SharedFiles))]
    public void SharedDataMatchesNibabel(string relativePath) =>
        AssertMatches(SharedExpected[relativePath], Nifti.Read(Path.Combine(Prerequisites.SharedDataDir, relativePath)));

    [FactNeeds(Need.SharedData)]
    public void EveryNiftiFileInSharedDataHasExpectations()
    {
        var onDisk = Directory.EnumerateFiles(Prerequisites.SharedDataDir, "*.nii.gz", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Prerequisites.SharedDataDir, p))
            .Order();
        Assert.Equal(onDisk, SharedExpected.Keys.Order());
    }

    [Fact]
    public void EveryNiftiFileInTestDataHasExpectations()
    {
        var onDisk = Directory.EnumerateFiles(TestDataDir, "*.nii.gz").Select(Path.GetFileName).Order();
        Assert.Equal(onDisk, TestDataExpected.Keys.Order());
    }

    [Fact]
    public void AxisCodesOfObliqueAndShearedAffinesMatchNibabel()
    {
        foreach (var c in AxcodesCases)
        {
            var affine = new double[4, 4];
            for (var i = 0; i < 4; i++)
                for (var j = 0; j < 4; j++)
                    affine[i, j] = c.Affine[i][j];
            Assert.Equal(c.Axcodes, OrientationCodes.FromAffine(affine));
        }
    }

    [Theory]
    [InlineData(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, "RAS")]
    [InlineData(new double[] { -1, 0, 0, 0, -1, 0, 0, 0, 1 }, "LPS")]
    [InlineData(new double[] { 0, 0, 2, 3, 0, 0, 0, -1, 0 }, "AIR")]
    [InlineData(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 0 }, "RA?")] // a zero column has no direction
    [InlineData(new double[] { double.NaN, 0, 0, 0, 1, 0, 0, 0, 1 }, "???")]
    public void AxisCodesOfSimpleAffines(double[] rotationZoom, string expected)
    {
        var affine = new double[4, 4];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                affine[i, j] = rotationZoom[3 * i + j];
        affine[3, 3] = 1;
        Assert.Equal(expected, OrientationCodes.FromAffine(affine));
    }

    private static void AssertMatches(ExpectedNifti e, NiftiImage image)
    {
        Assert.Equal(e.Shape, image.Shape);
        Assert.Equal(e.Dtype, image.DataType.Name());
        Assert.Equal(e.BigEndian, image.BigEndian);
        Assert.Equal(e.Zooms, image.Spacing);
        Assert.Equal(e.SformCode, image.Header.SFormCode);
        Assert.Equal(e.QformCode, image.Header.QFormCode);
        Assert.Equal(e.SclSlope ?? double.NaN, image.Header.SclSlope);
        Assert.Equal(e.SclInter ?? double.NaN, image.Header.SclInter);
        Assert.Equal(e.VoxOffset, NiftiHeaderValidation.DataOffset(image.Header));

        AssertAffine(e.Affine, image.Affine);
        AssertAffine(e.SformAffine, NiftiGeometry.SFormAffine(image.Header));
        AssertAffine(e.QformAffine, NiftiGeometry.QFormAffine(image.Header, image.Source));
        AssertAffine(e.BaseAffine, NiftiGeometry.PixDimAffine(image.Header));
        Assert.Equal(e.Axcodes, image.Orientation);

        Assert.Equal(e.RawSha256, Convert.ToHexStringLower(SHA256.HashData(image.RawBytes)));
        var data = image.GetData();
        double sum = 0, sumSq = 0;
        foreach (var v in data)
        {
            sum += v;
            sumSq += v * v;
        }
        AssertRelative(e.Sum, sum, 1e-9);
        AssertRelative(e.SumSq, sumSq, 1e-9);
        Assert.Equal(e.Min, data.Min());
        Assert.Equal(e.Max, data.Max());
    }

    private static void AssertAffine(double[][] expected, double[,] actual)
    {
        for (var i = 0; i < 4; i++)
            for (var j = 0; j < 4; j++)
                Assert.True(Math.Abs(expected[i][j] - actual[i, j]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i][j])),
                    $"affine[{i},{j}]: expected {expected[i][j]}, got {actual[i, j]}");
    }

    private static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)),
            $"expected {expected:R}, got {actual:R} (relative tolerance {tolerance})");
}
