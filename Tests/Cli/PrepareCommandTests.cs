using System.CommandLine;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Cli;

public class PrepareCommandTests
{
    private static (int Exit, string Out, string Err) Invoke(params string[] args) => CommandRunner.Invoke(PrepareCommand.Create(), args);

    private static void AssertOneLineError(string error, params string[] contains) => CommandRunner.AssertOneLineError(error, contains);

    [Fact]
    public void FolderOfRawPairsBecomesALoadableScanFolder()
    {
        using var raw = new TempDir();
        using var output = new TempDir();
        File.Copy(TestData("example_mr_sm.nii.gz"), raw.File("image_3.nii.gz"));
        File.Copy(TestData("example_seg_mr.nii.gz"), raw.File("label_3.nii.gz"));
        File.Copy(TestData("example_mr_sm.nii.gz"), raw.File("image_12.nii.gz"));
        File.Copy(TestData("example_seg_mr.nii.gz"), raw.File("label_12.nii.gz"));

        var (exit, stdout, error) = Invoke("prepare", "--input", raw.Path, "--out", output.Path, "--modality", "mr", "--label-map", "5:1,2:2,3:3,1:4");
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Contains("pid   3: 117x91x20 -> 256x256x8 at 1.25x1.25x7.7 mm", stdout);
        Assert.Equal(["classmap_1.json", "dataset.json", "image_12.nii.gz", "image_3.nii.gz", "label_12.nii.gz", "label_3.nii.gz"],
            Directory.EnumerateFileSystemEntries(output.Path).Select(Path.GetFileName).Order());

        var folder = ScanFolder.Load(output.Path);
        Assert.Equal([3, 12], folder.AllPids);
        var scan = folder.Get(3);
        Assert.Equal(256, scan.Image.Width);
        Assert.Equal(8, scan.Image.Depth);
        Assert.Equal(DatasetInfo.Chaos.LabelNames.Order(), folder.ClassMap.Slices.Keys.Order());
        Assert.NotEmpty(folder.ClassMap.SlicesOf("LIVER", 3));
        Assert.Equal(folder.ClassMap.SlicesOf("LIVER", 3), folder.ClassMap.SlicesOf("LIVER", 12));
    }

    [Fact]
    public void SinglePairCtAddsToTheClassMapOfTheFolder()
    {
        using var output = new TempDir();
        foreach (var pid in new[] { "1", "2" })
        {
            var (exit, _, error) = Invoke("prepare", "--image", TestData("example_ct_sm.nii.gz"), "--label", TestData("example_seg.nii.gz"),
                "--pid", pid, "--out", output.Path, "--modality", "ct", "--border", "8", "--label-map", "5:1,2:2,3:3,1:4");
            Assert.Equal("", error);
            Assert.Equal(0, exit);
        }
        var image = Nifti.Read(output.File("image_2.nii.gz"));
        Assert.Equal([257, 206, 31], image.Shape); // 106 px wide → 257; 85 rows at the same factor → int(85·256/106 + 1); z + 1
        Assert.Equal(NiftiDataType.Float32, image.DataType);
        var map = ClassMap.Read(output.Path, 1);
        Assert.Equal(map.SlicesOf("SPLEEN", 1), map.SlicesOf("SPLEEN", 2));
        Assert.NotEmpty(map.SlicesOf("SPLEEN", 2));
        Assert.DoesNotContain(30, map.SlicesOf("LIVER", 1)); // the added last slice is empty
    }

    [Fact]
    public void MissingLabelIsNamed()
    {
        using var raw = new TempDir();
        File.Copy(TestData("example_mr_sm.nii.gz"), raw.File("image_4.nii.gz"));
        var (exit, _, error) = Invoke("prepare", "--input", raw.Path, "--out", raw.File("out"), "--modality", "mr");
        Assert.Equal(1, exit);
        AssertOneLineError(error, raw.File("label_4.nii.gz"), "label file not found");
    }

    [Fact]
    public void ShapeMismatchAndNon3DAreNamedAndWriteNothing()
    {
        using var raw = new TempDir();
        using var output = new TempDir();
        File.Copy(TestData("example_mr_sm.nii.gz"), raw.File("image_1.nii.gz"));
        File.Copy(TestData("example_seg.nii.gz"), raw.File("label_1.nii.gz"));
        var (exit, _, error) = Invoke("prepare", "--input", raw.Path, "--out", output.Path, "--modality", "mr");
        Assert.Equal(1, exit);
        AssertOneLineError(error, raw.File("label_1.nii.gz"), "does not match");
        Assert.Empty(Directory.EnumerateFileSystemEntries(output.Path));

        var flat = NiftiImage.Create([4, 4], [1, 1], NiftiDataType.Int16, new double[16]);
        Nifti.Write(raw.File("flat.nii.gz"), flat);
        (exit, _, error) = Invoke("prepare", "--image", raw.File("flat.nii.gz"), "--label", raw.File("flat.nii.gz"), "--pid", "1", "--out", output.Path, "--modality", "mr");
        Assert.Equal(1, exit);
        AssertOneLineError(error, raw.File("flat.nii.gz"), "expected a 3D volume");
    }

    [Fact]
    public void UnnamedLabelValuesAndBadOptionsAreErrors()
    {
        using var output = new TempDir();
        string[] pair = ["--image", TestData("example_mr_sm.nii.gz"), "--label", TestData("example_seg_mr.nii.gz"), "--pid", "1", "--out", output.Path, "--modality", "mr"];
        var (exit, _, error) = Invoke(["prepare", .. pair]);
        Assert.Equal(1, exit);
        AssertOneLineError(error, "label value 49 has no class name", "--label-map");

        (exit, _, error) = Invoke(["prepare", .. pair, "--label-map", "5:1,oops"]);
        Assert.Equal(1, exit);
        AssertOneLineError(error, "'oops'");

        (exit, _, error) = Invoke(["prepare", .. pair, "--label-map", "5:1", "--spacing", "1,2"]);
        Assert.Equal(1, exit);
        AssertOneLineError(error, "--spacing '1,2'");
    }
}
