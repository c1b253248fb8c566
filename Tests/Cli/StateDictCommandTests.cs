using System.Text.RegularExpressions;
using IlgpuSeg.Cli;
using IlgpuSeg.Engine;
using static IlgpuSeg.Tests.Checkpoints.PthTestFiles;

namespace IlgpuSeg.Tests.Cli;

/// <summary>Program.Main writes to Console, which is process-wide: these tests must not run alongside others that redirect it.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

[Collection(nameof(ConsoleCollection))]
public class StateDictCommandTests
{
    private static (int Exit, string Out, string Err) RunMain(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try { return (Program.Main(args), output.ToString(), error.ToString()); }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>The columns of a tensor line: separated by two or more spaces (shapes contain single ones).</summary>
    private static string[] Columns(string line) => Regex.Split(line.Trim(), " {2,}");

    [Fact]
    public void InfoListsTensorsDtypesShapesAndCounts()
    {
        var path = Fixture("bare.pth");
        var (exit, output, error) = RunMain("info", path);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal($"{path} (pth, 9 tensors)", lines[0]);
        Assert.Equal(["0.weight", "float32", "[4, 3, 3, 3]"], Columns(lines[1]));
        Assert.Contains(lines, l => Columns(l) is ["1.num_batches_tracked", "int64", "[]"]);
        // conv 4*3*3*3 + 4, batch norm 4 + 4 (+ 4 + 4 + 1 buffers), linear 5*4 + 5
        Assert.Equal("elements: 154", lines[^2]);
        Assert.Equal("elements excluding running_mean/running_var/num_batches_tracked: 145", lines[^1]);
    }

    [Fact]
    public void InfoReadsSafetensorsToo()
    {
        var (exit, output, _) = RunMain("info", Fixture("expected.safetensors"));
        Assert.Equal(0, exit);
        Assert.Contains("(safetensors, ", output);
        Assert.Contains(output.Split('\n'), l => Columns(l) is ["dtypes.pth/f16", "float32", "[5]"]);
    }

    [Fact]
    public void InfoOfAnEmptySafetensorsFileCountsZero()
    {
        using var dir = new TempDir();
        var path = dir.File("empty.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor>());
        var (exit, output, _) = RunMain("info", path);
        Assert.Equal(0, exit);
        Assert.Contains("elements: 0\n", output);
    }

    [Fact]
    public void ConvertRoundTripsEveryValue()
    {
        using var dir = new TempDir();
        foreach (var file in GoodFiles)
        {
            var target = dir.File(Path.ChangeExtension(file, ".safetensors"));
            var (exit, output, error) = RunMain("convert", Fixture(file), target);
            Assert.Equal(0, exit);
            Assert.Equal("", error);
            Assert.Contains(target, output);

            var original = PthReader.ReadStateDict(Fixture(file));
            var converted = SafeTensors.Read(target).Tensors;
            Assert.Equal(original.Keys.Order(), converted.Keys.Order());
            foreach (var (name, tensor) in original)
            {
                Assert.Equal(tensor.Shape, converted[name].Shape);
                Assert.Equal(tensor.DType, converted[name].DType);
                Assert.Equal(tensor.ToDoubleArray(), converted[name].ToDoubleArray());
            }
            Assert.False(File.Exists(target + ".tmp"));
        }
    }

    [Theory]
    [InlineData("info")]
    [InlineData("convert")]
    public void BadInputGivesOneLineNamingTheFileAndExitOne(string command)
    {
        using var dir = new TempDir();
        var missing = dir.File("missing.pth");
        foreach (var (path, problem) in new[] { (Fixture("evil_os_system.pth"), "os.system"), (Fixture("legacy.pth"), "legacy"), (missing, "cannot read") })
        {
            string[] args = command == "info" ? ["info", path] : ["convert", path, dir.File("out.safetensors")];
            var (exit, output, error) = RunMain(args);
            Assert.Equal(1, exit);
            Assert.Equal("", output);
            Assert.Single(error.TrimEnd('\n').Split('\n'));
            Assert.Contains(path, error);
            Assert.Contains(problem, error);
            Assert.False(File.Exists(dir.File("out.safetensors")));
        }
    }

    [Fact]
    public void ConvertToAnUnwritablePlaceGivesOneLine()
    {
        using var dir = new TempDir();
        var target = Path.Combine(dir.Path, "no", "such", "dir", "out.safetensors");
        var (exit, _, error) = RunMain("convert", Fixture("bare.pth"), target);
        Assert.Equal(1, exit);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains(target, error);
    }
}
