using System.Buffers.Binary;
using IlgpuSeg.Data;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.NiftiFiles;

/// <summary>Every bad input gives a <see cref="DataFormatException"/> whose message names the file and the problem.</summary>
public class NiftiErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A small real image (uint8 labels with header extensions), decompressed.</summary>
    private static byte[] RealNii() => ReadDecompressed(TestData("example_seg_mr.nii.gz"));

    private string Save(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static DataFormatException AssertFails(string path, string expectedInMessage, Func<object> read)
    {
        var e = Assert.Throws<DataFormatException>(read);
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FilePath);
        Assert.Contains(expectedInMessage, e.Message, StringComparison.OrdinalIgnoreCase);
        return e;
    }

    private static DataFormatException AssertReadFails(string path, string expectedInMessage) =>
        AssertFails(path, expectedInMessage, () => Nifti.Read(path));

    [Fact]
    public void TruncatedGzip()
    {
        var gz = File.ReadAllBytes(TestData("example_seg_mr.nii.gz"));
        AssertReadFails(Save("cut.nii.gz", gz[..(gz.Length / 2)]), "truncated");
    }

    [Fact]
    public void GzipCutInsideTheHeader() =>
        AssertReadFails(Save("cut_header.nii.gz", Gzip(RealNii()[..200])), "inside the 348-byte NIfTI-1 header");

    [Fact]
    public void WrongMagic()
    {
        var nii = RealNii();
        "xyz\0"u8.CopyTo(nii.AsSpan(344));
        AssertReadFails(Save("magic.nii", nii), "wrong magic");
    }

    [Fact]
    public void NotANiftiFileAtAll() =>
        AssertReadFails(Save("text.nii", "this is not an image, just some text padded out to a decent length ..."u8.ToArray()), "not a NIfTI-1 file");

    [Fact]
    public void EmptyFile() => AssertReadFails(Save("empty.nii", []), "too short");

    [Fact]
    public void Nifti2()
    {
        var nii2 = new byte[600];
        BinaryPrimitives.WriteInt32LittleEndian(nii2, 540);
        "n+2\0\r\n\u001a\n"u8.CopyTo(nii2.AsSpan(4));
        AssertReadFails(Save("two.nii", nii2), "NIfTI-2");
    }

    [Fact]
    public void Analyze75()
    {
        var nii = RealNii();
        nii.AsSpan(344, 4).Clear(); // ANALYZE 7.5 has no magic
        AssertReadFails(Save("analyze.nii", nii), "ANALYZE 7.5");
    }

    [Fact]
    public void NiftiPairHeader()
    {
        var nii = RealNii();
        "ni1\0"u8.CopyTo(nii.AsSpan(344));
        AssertReadFails(Save("pair.nii", nii), ".hdr/.img pair");
    }

    [Theory]
    [InlineData("scan.hdr")]
    [InlineData("scan.img")]
    [InlineData("scan.img.gz")]
    public void HdrImgPairFilesAreNotSupported(string name)
    {
        var path = Save(name, RealNii());
        AssertReadFails(path, "not supported");
        AssertFails(path, "not supported", () => { Nifti.Write(path, NiftiImage.Create([1], [1], NiftiDataType.UInt8, [0])); return 0; });
    }

    [Fact]
    public void PlainFileShorterThanItsHeaderSays() =>
        AssertReadFails(Save("short.nii", RealNii()[..^10]), "shorter than its header says");

    [Fact]
    public void GzipFileShorterThanItsHeaderSays()
    {
        var nii = RealNii();
        BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(40 + 2 * 3), 21); // one slice more than stored
        AssertReadFails(Save("short.nii.gz", Gzip(nii)), "header does not match its data");
    }

    [Fact]
    public void HeaderAskingForFarMoreThanTheFileCanHoldFailsBeforeAllocating()
    {
        var nii = RealNii();
        short[] dims = [3, 2000, 2000, 200]; // 800 MB: a valid size, but not in a 16 kB gzip file
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(40 + 2 * i), dims[i]);
        var path = Save("huge.nii.gz", Gzip(nii));
        var before = GC.GetAllocatedBytesForCurrentThread();
        AssertReadFails(path, "header does not match its data");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated more than 16 MB for a rejected header");
    }

    [Theory]
    [InlineData(0, 0, "dim[0] is 0")]
    [InlineData(0, 8, "dim[0] is 8")]
    [InlineData(0, -1, "dim[0] is -1")]
    [InlineData(2, 0, "dim[2] is 0")]
    [InlineData(1, -5, "dim[1] is -5")]
    public void BadDims(int index, short value, string expected)
    {
        var nii = RealNii();
        BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(40 + 2 * index), value);
        var e = AssertReadFails(Save("dims.nii", nii), "bad dims");
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DimsTooLargeForAnyArray()
    {
        var nii = RealNii();
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(40 + 2 * i), i == 0 ? (short)7 : short.MaxValue);
        AssertReadFails(Save("overflow.nii", nii), "too large");
    }

    [Theory]
    [InlineData(1024, "int64 (1024)")]
    [InlineData(32, "complex64 (32)")]
    [InlineData(3, "unknown datatype code 3")]
    public void UnsupportedDatatype(short code, string expected)
    {
        var nii = RealNii();
        BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(70), code);
        AssertReadFails(Save("type.nii", nii), expected);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(348f)]
    [InlineData(float.NaN)]
    [InlineData(-1e9f)]
    public void BadVoxOffset(float offset)
    {
        var nii = RealNii();
        BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(108), offset);
        AssertReadFails(Save("offset.nii", nii), "bad vox_offset");
    }

    [Fact]
    public void SlopeWithoutAValidIntercept()
    {
        var nii = RealNii();
        BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(112), 2f);
        BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(116), float.NaN);
        AssertReadFails(Save("scale.nii", nii), "scl_inter");
    }

    [Fact]
    public void QformQuaternionLongerThanOne()
    {
        var nii = RealNii();
        BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(254), 0); // sform_code 0, so the qform is used
        BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(252), 1);
        BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(256), 0.9f);
        BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(260), 0.9f);
        AssertReadFails(Save("quaternion.nii", nii), "quaternion");
    }

    [Fact]
    public void ImageAndLabelOfDifferentShapes()
    {
        var image = TestData("image_15.nii.gz");
        var label = TestData("example_seg.nii.gz");
        var e = AssertFails(label, "does not match", () => Nifti.ReadPair(image, label));
        Assert.Contains(image, e.Message);
    }

    [Fact]
    public void MatchingImageAndLabelReadAsAPair()
    {
        var (image, label) = Nifti.ReadPair(TestData("image_39.nii.gz"), TestData("label_39.nii.gz"));
        Assert.Equal(image.Shape, label.Shape);
    }

    [Fact]
    public void MissingClassMap()
    {
        var e = AssertFails(Path.Combine(_dir.Path, "classmap_7.json"), "not found", () => ClassMap.Read(_dir.Path, 7));
        Assert.Contains("classmap_7.json", e.Message);
    }

    [Fact]
    public void MalformedClassMap()
    {
        var path = Save("classmap_1.json", "{\"LIVER\": [1, 2]}"u8.ToArray());
        AssertFails(path, "not a class map", () => ClassMap.Read(_dir.Path, 1));
    }
}
