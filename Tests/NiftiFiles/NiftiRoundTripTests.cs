using IlgpuSeg.Data;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.NiftiFiles;

public class NiftiRoundTripTests
{
    public static TheoryData<NiftiDataType, bool, bool> EveryTypeOrderAndCompression()
    {
        var data = new TheoryData<NiftiDataType, bool, bool>();
        foreach (var type in Enum.GetValues<NiftiDataType>())
            foreach (var bigEndian in new[] { false, true })
                foreach (var gzip in new[] { false, true })
                    data.Add(type, bigEndian, gzip);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryTypeOrderAndCompression))]
    public void EveryDatatypeSurvivesWriteAndRead(NiftiDataType type, bool bigEndian, bool gzip)
    {
        using var dir = new TempDir();
        var values = ValuesSpanning(type, 2 * 3 * 4);
        var written = NiftiImage.Create([2, 3, 4], [0.5, 1, 2.5], type, values);
        var path = dir.File(gzip ? "a.nii.gz" : "a.nii");
        Nifti.Write(path, written);
        if (bigEndian)
        {
            // The writer only writes little-endian: make the big-endian file by swapping every field.
            var swapped = ToBigEndian(ReadDecompressed(path), type.SizeInBytes());
            File.WriteAllBytes(path, gzip ? Gzip(swapped) : swapped);
        }

        var read = Nifti.Read(path);
        Assert.Equal(bigEndian, read.BigEndian);
        Assert.Equal(type, read.DataType);
        Assert.Equal([2, 3, 4], read.Shape);
        Assert.Equal([0.5, 1, 2.5], read.Spacing);
        Assert.Equal(values, read.GetData());
        Assert.Equal(values, read.GetRawData());
        Assert.Equal(AffineRows(written.Affine), AffineRows(read.Affine));
    }

    [Fact]
    public void BigEndianImageIsWrittenBackLittleEndianWithTheSameValues()
    {
        using var dir = new TempDir();
        var values = ValuesSpanning(NiftiDataType.Int32, 10);
        var path = dir.File("big.nii");
        Nifti.Write(path, NiftiImage.Create([10], [1], NiftiDataType.Int32, values));
        File.WriteAllBytes(path, ToBigEndian(File.ReadAllBytes(path), 4));

        var copy = dir.File("little.nii");
        Nifti.Write(copy, Nifti.Read(path));
        var read = Nifti.Read(copy);
        Assert.False(read.BigEndian);
        Assert.Equal(values, read.GetData());
    }

    [Fact]
    public void NewDataOnARealGridKeepsItsGeometry()
    {
        using var dir = new TempDir();
        var image = Nifti.Read(TestData("image_15.nii.gz"));
        var labels = Nifti.Read(TestData("label_15.nii.gz")).GetData();
        var path = dir.File("prediction.nii.gz");
        Nifti.Write(path, image.WithData(NiftiDataType.UInt8, labels));

        var read = Nifti.Read(path);
        Assert.Equal(NiftiDataType.UInt8, read.DataType);
        Assert.Equal(labels, read.GetData());
        Assert.Equal(image.Shape, read.Shape);
        Assert.Equal(image.Spacing, read.Spacing);
        Assert.Equal(AffineRows(image.Affine), AffineRows(read.Affine));
        Assert.Equal(AffineRows(NiftiGeometry.QFormAffine(image.Header, "")), AffineRows(NiftiGeometry.QFormAffine(read.Header, "")));
        Assert.Equal("LAS", read.Orientation);
        Assert.Equal(image.Header.XyztUnits, read.Header.XyztUnits);
    }

    [Theory]
    [InlineData("example_seg.nii.gz")] // has header extensions: vox_offset 13168
    [InlineData("example_ct_sm.nii.gz")]
    public void RealFileIsRewrittenWithTheSameDataAndGeometry(string name)
    {
        using var dir = new TempDir();
        var original = Nifti.Read(TestData(name));
        var path = dir.File(name);
        Nifti.Write(path, original);

        var read = Nifti.Read(path);
        Assert.Equal(original.RawBytes, read.RawBytes);
        Assert.Equal(original.Header.VoxOffset, read.Header.VoxOffset);
        Assert.Equal(AffineRows(original.Affine), AffineRows(read.Affine));
        Assert.Equal(original.Orientation, read.Orientation);
    }

    [Theory]
    [InlineData(400f)]
    [InlineData(357f)] // not a multiple of 16: unusual but legal, and nibabel reads it
    public void DataIsReadFromVoxOffset(float voxOffset)
    {
        using var dir = new TempDir();
        double[] values = [1, 2, 3, 4, 5, 6];
        var image = NiftiImage.Create([3, 2], [1, 1], NiftiDataType.Int16, values);
        image.Header.VoxOffset = voxOffset;
        var path = dir.File("offset.nii");
        Nifti.Write(path, image);

        Assert.Equal((long)voxOffset + 12, new FileInfo(path).Length);
        var read = Nifti.Read(path);
        Assert.Equal(voxOffset, read.Header.VoxOffset);
        Assert.Equal(values, read.GetData());
    }

    [Fact]
    public void SlopeAndInterceptAreApplied()
    {
        using var dir = new TempDir();
        double[] raw = [-4, 0, 7, 1000];
        var image = NiftiImage.Create([4], [1], NiftiDataType.Int16, raw);
        image.Header.SclSlope = 0.5f;
        image.Header.SclInter = -3f;
        var path = dir.File("scaled.nii.gz");
        Nifti.Write(path, image);

        var read = Nifti.Read(path);
        Assert.Equal(raw, read.GetRawData());
        Assert.Equal([-5, -3, 0.5, 497], read.GetData());
        Assert.Equal([-5f, -3f, 0.5f, 497f], read.GetDataFloat());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void SlopeZeroOrNotFiniteMeansNoScaling(float slope)
    {
        using var dir = new TempDir();
        double[] raw = [1, 2, 3];
        var image = NiftiImage.Create([3], [1], NiftiDataType.UInt8, raw);
        image.Header.SclSlope = slope;
        image.Header.SclInter = float.NaN; // ignored without a slope
        var path = dir.File("unscaled.nii");
        Nifti.Write(path, image);
        Assert.Equal(raw, Nifti.Read(path).GetData());
    }

    [Fact]
    public void MultiMemberGzipIsReadWhole()
    {
        using var dir = new TempDir();
        var plain = ReadDecompressed(TestData("example_seg_mr.nii.gz"));
        var path = dir.File("two_members.nii.gz");
        File.WriteAllBytes(path, [.. Gzip(plain[..5000]), .. Gzip(plain[5000..])]);

        var read = Nifti.Read(path);
        Assert.Equal(Nifti.Read(TestData("example_seg_mr.nii.gz")).RawBytes, read.RawBytes);
    }

    [Fact]
    public void ByteOrderIsDetectedNotAssumedFromTheName()
    {
        using var dir = new TempDir();
        var path = dir.File("really_plain.nii.gz");
        File.WriteAllBytes(path, ReadDecompressed(TestData("example_seg_mr.nii.gz")));
        Assert.Equal(new[] { 117, 91, 20 }, Nifti.Read(path).Shape);
    }

    [Fact]
    public void WithDataRefusesValuesTheTypeCannotHold()
    {
        var image = NiftiImage.Create([2], [1], NiftiDataType.Float32, [0, 0]);
        Assert.Throws<ArgumentException>(() => image.WithData(NiftiDataType.UInt8, [1, 256]));
        Assert.Throws<ArgumentException>(() => image.WithData(NiftiDataType.Int16, [1.5, 0]));
        Assert.Throws<ArgumentException>(() => image.WithData(NiftiDataType.Int8, [double.NaN, 0]));
    }

    /// <summary>n values from the type's minimum to its maximum; float types also get a small fraction.</summary>
    private static double[] ValuesSpanning(NiftiDataType type, int n)
    {
        var (min, max) = type switch
        {
            NiftiDataType.UInt8 => (byte.MinValue, byte.MaxValue),
            NiftiDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            NiftiDataType.Int16 => (short.MinValue, short.MaxValue),
            NiftiDataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
            NiftiDataType.Int32 => (int.MinValue, int.MaxValue),
            NiftiDataType.UInt32 => (uint.MinValue, uint.MaxValue),
            NiftiDataType.Float32 => (float.MinValue, float.MaxValue),
            _ => (double.MinValue, double.MaxValue),
        };
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            var t = (double)i / (n - 1);
            var v = min * (1 - t) + max * t;
            values[i] = type switch
            {
                NiftiDataType.Float32 => (float)v,
                NiftiDataType.Float64 => v,
                _ => Math.Floor(v),
            };
        }
        if (type is NiftiDataType.Float32 or NiftiDataType.Float64) values[1] = -0.375;
        return values;
    }

    private static double[][] AffineRows(double[,] a) =>
        Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 4).Select(j => a[i, j]).ToArray()).ToArray();
}
