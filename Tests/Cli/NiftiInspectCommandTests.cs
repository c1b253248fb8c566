using System.CommandLine;
using System.Text.Json;
using IlgpuSeg.Cli;
using IlgpuSeg.Cli.Commands;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Cli;

public class NiftiInspectCommandTests
{
    private static (int Exit, string Out, string Err) Invoke(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var root = new RootCommand { InspectCommand.Create() };
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void PrintsGeometryAndValueRangeAsJson()
    {
        var path = TestData("example_ct_sm.nii.gz");
        var (exit, output, error) = Invoke("inspect", path);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(path, root.GetProperty("file").GetString());
        Assert.Equal([122, 101, 30], root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("int16", root.GetProperty("datatype").GetString());
        Assert.Equal([3.0, 3.0, 3.0], root.GetProperty("spacing").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal("RAS", root.GetProperty("orientation").GetString());
        Assert.Equal("sform", root.GetProperty("affineSource").GetString());
        var affine = root.GetProperty("affine").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        Assert.Equal(4, affine.Length);
        Assert.Equal([3.0, 0, 0], affine[0][..3]);
        Assert.Equal([0.0, 0, 0, 1], affine[3]);

        var expected = TestDataExpected["example_ct_sm.nii.gz"];
        Assert.Equal(expected.Min, root.GetProperty("min").GetDouble());
        Assert.Equal(expected.Max, root.GetProperty("max").GetDouble());
        var voxels = expected.Shape.Aggregate(1, (a, b) => a * b);
        Assert.Equal(expected.Sum / voxels, root.GetProperty("mean").GetDouble(), 1e-9);
    }

    [Fact]
    public void BadFileGivesOneLineNamingItAndNonZeroExit()
    {
        using var dir = new TempDir();
        var path = dir.File("broken.nii.gz");
        var gz = File.ReadAllBytes(TestData("example_seg_mr.nii.gz"));
        File.WriteAllBytes(path, gz[..(gz.Length / 3)]);

        var (exit, output, error) = Invoke("inspect", path);
        Assert.NotEqual(0, exit);
        Assert.Equal("", output);
        Assert.Contains(path, error);
        Assert.Contains("truncated", error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void MissingFileThroughMainGivesNonZeroExit()
    {
        Assert.NotEqual(0, Program.Main(["inspect", "/nonexistent/ilgpuseg/scan.nii.gz"]));
    }
}
