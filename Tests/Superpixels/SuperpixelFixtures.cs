using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using IlgpuSeg.Data;
using IlgpuSeg.Tests.Support;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Superpixels;

/// <summary>Reads Tests/Fixtures/superpixels (made by tools/make_superpixel_fixtures.py; see Tests/Fixtures/README.md).</summary>
public static class SuperpixelFixtures
{
    public sealed record SliceExpectation(int Pid, int Z, int FelzenszwalbCount, string FelzenszwalbSha256, int MaskPixels,
        string MaskSha256, int PseudolabelMax, string PseudolabelSha256);

    public sealed record StoredSlice(int Pid, int Z, int[] Labels);

    private static string Dir => Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "superpixels");

    private static readonly Lazy<JsonElement> Index = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "index.json"))).RootElement);

    public static double FgThresh => Index.Value.GetProperty("fg_thresh").GetDouble();

    public static IReadOnlyList<SliceExpectation> Slices => Index.Value.GetProperty("slices").EnumerateArray()
        .Select(s => new SliceExpectation(s.GetProperty("pid").GetInt32(), s.GetProperty("z").GetInt32(),
            s.GetProperty("felzenszwalb_count").GetInt32(), s.GetProperty("felzenszwalb_sha256").GetString()!,
            s.GetProperty("mask_pixels").GetInt32(), s.GetProperty("mask_sha256").GetString()!,
            s.GetProperty("pseudolabel_max").GetInt32(), s.GetProperty("pseudolabel_sha256").GetString()!))
        .ToList();

    public static int[] ArgsortExpected => Index.Value.GetProperty("argsort").GetProperty("argsort").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>SciPy's σ = 1 kernel built with the C library's exp ("libm_exp") or NumPy's ("numpy_exp").</summary>
    public static double[] GaussianKernelSigma1(string exp) =>
        Index.Value.GetProperty("gaussian_kernel_sigma1").GetProperty(exp).EnumerateArray()
            .Select(e => BitConverter.Int64BitsToDouble(Convert.ToInt64(e.GetString(), 16))).ToArray();

    public static IReadOnlyList<StoredSlice> Stored()
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(Dir, "felzenszwalb.i32.gz")), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gz.CopyTo(bytes);
        var blob = bytes.ToArray();
        return Index.Value.GetProperty("stored").EnumerateArray().Select(s =>
        {
            var count = s.GetProperty("height").GetInt32() * s.GetProperty("width").GetInt32();
            var labels = new int[count];
            Buffer.BlockCopy(blob, s.GetProperty("offset").GetInt32(), labels, 0, 4 * count); // little-endian host
            return new StoredSlice(s.GetProperty("pid").GetInt32(), s.GetProperty("z").GetInt32(), labels);
        }).ToList();
    }

    private static readonly Dictionary<int, (NiftiImage Image, double[] Data)> Images = new();

    /// <summary>The committed test scan image_&lt;pid&gt;.nii.gz and its values (read once).</summary>
    public static (NiftiImage Image, double[] Data) Image(int pid)
    {
        lock (Images)
        {
            if (!Images.TryGetValue(pid, out var entry))
            {
                var image = Nifti.Read(TestData($"image_{pid}.nii.gz"));
                Images[pid] = entry = (image, image.GetData());
            }
            return entry;
        }
    }

    /// <summary>Slice z as the notebook sees it: row-major (y rows, x columns), which is our x-fastest storage order.</summary>
    public static (double[] Values, int Height, int Width) Slice(int pid, int z)
    {
        var (image, data) = Image(pid);
        int width = image.Shape[0], height = image.Shape[1];
        return (data.AsSpan(z * width * height, width * height).ToArray(), height, width);
    }

    /// <summary>Adjusted Rand index of two labelings of the same pixels (1 for the same partition, about 0 for chance).</summary>
    public static double AdjustedRandIndex(int[] a, int[] b)
    {
        static double Pairs(long n) => n * (n - 1) / 2.0;
        var joint = new Dictionary<(int, int), long>();
        var rows = new Dictionary<int, long>();
        var cols = new Dictionary<int, long>();
        for (var i = 0; i < a.Length; i++)
        {
            joint[(a[i], b[i])] = joint.GetValueOrDefault((a[i], b[i])) + 1;
            rows[a[i]] = rows.GetValueOrDefault(a[i]) + 1;
            cols[b[i]] = cols.GetValueOrDefault(b[i]) + 1;
        }
        var index = joint.Values.Sum(Pairs);
        double sumRows = rows.Values.Sum(Pairs), sumCols = cols.Values.Sum(Pairs);
        var expected = sumRows * sumCols / Pairs(a.Length);
        var max = (sumRows + sumCols) / 2;
        return max == expected ? 1 : (index - expected) / (max - expected);
    }

    public static string Sha256(int[] values)
    {
        var bytes = new byte[4 * values.Length];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); // little-endian host, as the fixture's '<i4'
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    public static string Sha256(bool[] mask) => Convert.ToHexStringLower(SHA256.HashData(mask.Select(b => b ? (byte)1 : (byte)0).ToArray()));
}
