using System.Security.Cryptography;
using System.Text.Json;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Preprocessing;
using IlgpuSeg.Tests.Support;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Preprocessing;

/// <summary>Matches the NumPy/SciPy values of tools/make_prepare_fixtures.py (Tests/Fixtures/prepare/expected.json).</summary>
public class PreprocessingFixtureTests
{
    private static readonly Lazy<JsonElement> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "prepare", "expected.json"))).RootElement);

    private static JsonElement E(string key) => Expected.Value.GetProperty(key);

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static void Close(double expected, double actual, double tolerance = 1e-9) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    [Fact]
    public void PercentileIsNumpysLinearPercentile()
    {
        var p = E("percentile");
        var values = Doubles(p.GetProperty("synthetic_values"));
        foreach (var entry in p.GetProperty("synthetic").EnumerateObject())
            Assert.Equal(entry.Value.GetDouble(), PercentileClip.Percentile(values, double.Parse(entry.Name)));
        Assert.Equal(p.GetProperty("mr_99.5").GetDouble(), PercentileClip.Percentile(Nifti.Read(TestData("example_mr_sm.nii.gz")).GetData(), 99.5));
        Assert.Equal(p.GetProperty("ct_99.5").GetDouble(), PercentileClip.Percentile(Nifti.Read(TestData("example_ct_sm.nii.gz")).GetData(), 99.5));
    }

    [Fact]
    public void HuWindowMatchesNumpy()
    {
        var w = E("hu_window");
        var scaled = HuWindow.Normalize(Nifti.Read(TestData("example_ct_sm.nii.gz")).GetData(), -125, 275, "ct");
        Close(w.GetProperty("sum").GetDouble(), scaled.Sum());
        Assert.Equal(0, scaled.Min());
        Assert.Equal(255, scaled.Max());
        var indices = Ints(w.GetProperty("sample_indices"));
        var values = Doubles(w.GetProperty("sample_values"));
        for (var i = 0; i < indices.Length; i++) Assert.Equal(values[i], scaled[indices[i]]);
    }

    [Fact]
    public void ResamplingMatchesTheItkCascadeCheckedAgainstMapCoordinates()
    {
        foreach (var c in E("resample").EnumerateArray())
        {
            var shape = Ints(c.GetProperty("shape"));
            var input = new Volume<double>(shape[0], shape[1], shape[2], Doubles(c.GetProperty("input")));
            var cast = c.GetProperty("cast").GetString() switch { "truncate" => SampleCast.Truncate, "single" => SampleCast.Single, _ => SampleCast.None };
            var output = LinearResampler.Resample(input, Doubles(c.GetProperty("old")), Doubles(c.GetProperty("new")), cast);
            Assert.Equal(Ints(c.GetProperty("output_shape")), new[] { output.Width, output.Height, output.Depth });
            Assert.Equal(Doubles(c.GetProperty("output")), output.Data); // same operations in the same order: bit-equal
        }
    }

    [Fact]
    public void LabelsAreResampledPerValue()
    {
        var c = E("label_resample");
        var shape = Ints(c.GetProperty("shape"));
        var input = new Volume<int>(shape[0], shape[1], shape[2], Doubles(c.GetProperty("input")).Select(v => (int)v).ToArray());
        var output = LabelResampler.Resample(input, Doubles(c.GetProperty("old")), Doubles(c.GetProperty("new")));
        Assert.Equal(Ints(c.GetProperty("output_shape")), new[] { output.Width, output.Height, output.Depth });
        Assert.Equal(Doubles(c.GetProperty("output")).Select(v => (int)v), output.Data);
        Assert.Subset(new HashSet<int> { 0, 1, 2, 5 }, output.Data.ToHashSet());
    }

    [Theory]
    [InlineData("mr_pipeline")]
    [InlineData("ct_pipeline")]
    public void PresetsOnTheTotalSegmentatorExamples(string key)
    {
        var mr = key == "mr_pipeline";
        var options = (mr ? PreprocessOptions.Mr : PreprocessOptions.Ct) with { LabelMap = LabelMapping.Parse("5:1,2:2,3:3,1:4") };
        var scan = Preprocessor.Prepare(
            Nifti.Read(TestData(mr ? "example_mr_sm.nii.gz" : "example_ct_sm.nii.gz")),
            Nifti.Read(TestData(mr ? "example_seg_mr.nii.gz" : "example_seg.nii.gz")), options);
        var e = E(key);
        Assert.Equal(Ints(e.GetProperty("shape")), scan.Image.Shape);
        Assert.Equal(scan.Image.Shape, scan.Label.Shape);
        var image = scan.Image.GetData();
        Close(e.GetProperty("image_sum").GetDouble(), image.Sum(), 1e-6); // stored as float32
        Assert.Equal(e.GetProperty("image_min").GetDouble(), image.Min(), 4);
        var indices = Ints(e.GetProperty("sample_indices"));
        var values = Doubles(e.GetProperty("sample_values"));
        for (var i = 0; i < indices.Length; i++) Assert.Equal((float)values[i], (float)image[indices[i]]);

        var labels = scan.Label.GetData();
        var counts = labels.GroupBy(v => (int)v).ToDictionary(g => g.Key.ToString(), g => g.Count());
        Assert.Equal(e.GetProperty("label_counts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()), counts);
        Assert.Equal(e.GetProperty("label_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(labels.Select(v => (byte)v).ToArray())));
        Assert.Equal(NiftiDataType.UInt8, scan.Label.DataType);
        if (!mr)
            for (var a = 0; a < 3; a++) Close(Doubles(e.GetProperty("spacing"))[a], scan.Image.Spacing[a], 1e-6);
    }
}
