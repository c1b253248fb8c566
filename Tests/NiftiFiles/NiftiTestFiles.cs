using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.NiftiFiles;

/// <summary>Paths to the committed test data, the nibabel expectations, and helpers to build test files.</summary>
public static class NiftiTestFiles
{
    public static string TestDataDir => Path.Combine(Prerequisites.RepoRoot, "Tests", "TestData");

    public static string TestData(string name) => Path.Combine(TestDataDir, name);

    private static readonly Lazy<ExpectedFile> Expected = new(() => JsonSerializer.Deserialize<ExpectedFile>(
        File.ReadAllText(TestData("nifti_expected.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!);

    /// <summary>What nibabel reads from each shared-data file (keys relative to the shared data dir).</summary>
    public static IReadOnlyDictionary<string, ExpectedNifti> SharedExpected => Expected.Value.Shared;

    /// <summary>What nibabel reads from each file in Tests/TestData (keys are file names).</summary>
    public static IReadOnlyDictionary<string, ExpectedNifti> TestDataExpected => Expected.Value.Testdata;

    /// <summary>The decompressed bytes of a .nii or .nii.gz file.</summary>
    public static byte[] ReadDecompressed(string path)
    {
        if (!path.EndsWith(".gz")) return File.ReadAllBytes(path);
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(bytes);
        return ms.ToArray();
    }

    /// <summary>
    /// Converts a little-endian single-file NIfTI-1 image to big-endian, field by field from the standard's
    /// layout (written independently of the reader's codec, so the test checks one against the other).
    /// </summary>
    public static byte[] ToBigEndian(byte[] nii, int elementSize)
    {
        var b = (byte[])nii.Clone();
        (int Offset, int Size, int Count)[] numericFields =
        [
            (0, 4, 1),    // sizeof_hdr
            (32, 4, 1),   // extents
            (36, 2, 1),   // session_error
            (40, 2, 8),   // dim
            (56, 4, 3),   // intent_p1..3
            (68, 2, 4),   // intent_code, datatype, bitpix, slice_start
            (76, 4, 8),   // pixdim
            (108, 4, 3),  // vox_offset, scl_slope, scl_inter
            (120, 2, 1),  // slice_end
            (124, 4, 4),  // cal_max, cal_min, slice_duration, toffset
            (140, 4, 2),  // glmax, glmin
            (252, 2, 2),  // qform_code, sform_code
            (256, 4, 6),  // quatern_b..d, qoffset_x..z
            (280, 4, 12), // srow_x, srow_y, srow_z
        ];
        foreach (var (offset, size, count) in numericFields)
            for (var i = 0; i < count; i++)
                b.AsSpan(offset + i * size, size).Reverse();
        var voxOffset = (int)BinaryPrimitives.ReadSingleLittleEndian(nii.AsSpan(108));
        for (var i = voxOffset; i + elementSize <= b.Length; i += elementSize)
            b.AsSpan(i, elementSize).Reverse();
        return b;
    }

    /// <summary>A fresh temporary directory, deleted when disposed.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("ilgpuseg-nifti-").FullName;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>Oblique and sheared affines with nibabel's aff2axcodes.</summary>
    public static IReadOnlyList<AxcodesCase> AxcodesCases => Expected.Value.AxcodesCases;

    public sealed record ExpectedFile(
        string Generator,
        Dictionary<string, ExpectedNifti> Shared,
        Dictionary<string, ExpectedNifti> Testdata,
        List<AxcodesCase> AxcodesCases);

    public sealed record AxcodesCase(double[][] Affine, string Axcodes);

    public sealed record ExpectedNifti(
        int[] Shape,
        string Dtype,
        bool BigEndian,
        double[] Zooms,
        double[][] Affine,
        double[][] QformAffine,
        double[][] SformAffine,
        double[][] BaseAffine,
        string Axcodes,
        int SformCode,
        int QformCode,
        double? SclSlope,
        double? SclInter,
        long VoxOffset,
        double Sum,
        double SumSq,
        double Min,
        double Max,
        string RawSha256);
}
