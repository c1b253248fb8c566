using System.CommandLine;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Superpixels;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Cli;

public class PseudolabelCommandTests
{
    private static (int Exit, string Out, string Err) Invoke(params string[] args) => CommandRunner.Invoke(PseudolabelCommand.Create(), args);

    private static void AssertOneLineError(string error, params string[] contains) => CommandRunner.AssertOneLineError(error, contains);

    [Fact]
    public void WritesOneLabelFilePerScanIdenticalForAnyThreadCount()
    {
        using var data = new TempDir();
        using var out1 = new TempDir();
        using var out2 = new TempDir();
        // pid 15 as "image_015" and a second copy under pid 2: the pid is the name's last integer.
        File.Copy(TestData("image_15.nii.gz"), data.File("image_015.nii.gz"));
        File.Copy(TestData("image_39.nii.gz"), data.File("image_2.nii.gz"));
        File.Copy(TestData("label_39.nii.gz"), data.File("label_2.nii.gz")); // not an image: ignored

        var (exit, output, error) = Invoke("pseudolabel", "--data", data.Path, "--out", out1.Path, "--threads", "1", "--dataset", "chaos");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Matches(@"pid +2: 31 slices", output);
        Assert.Matches(@"pid +15: 31 slices", output);
        Assert.Contains("2 scans, 62 slices", output);
        Assert.Equal(["superpix-MIDDLE_15.nii.gz", "superpix-MIDDLE_2.nii.gz"],
            Directory.EnumerateFiles(out1.Path).Select(Path.GetFileName).Order());

        var labels = Nifti.Read(out1.File("superpix-MIDDLE_15.nii.gz"));
        var image = Nifti.Read(TestData("image_15.nii.gz"));
        Assert.Equal(image.Shape, labels.Shape);
        Assert.Equal(image.Affine, labels.Affine);
        Assert.Equal(PseudoLabeller.LabelVolume(image, BodyMask.ChaosMriThreshold).GetData(), labels.GetData());

        Assert.Equal(0, Invoke("pseudolabel", "--data", data.Path, "--out", out2.Path, "--threads", "2", "--dataset", "chaos").Exit);
        foreach (var name in new[] { "superpix-MIDDLE_15.nii.gz", "superpix-MIDDLE_2.nii.gz" })
            Assert.Equal(Nifti.Read(out1.File(name)).GetData(), Nifti.Read(out2.File(name)).GetData());
    }

    [Fact]
    public void MissingDataFolder()
    {
        using var dir = new TempDir();
        var missing = dir.File("nope");
        var (exit, output, error) = Invoke("pseudolabel", "--data", missing, "--out", dir.File("out"));
        Assert.NotEqual(0, exit);
        Assert.Equal("", output);
        AssertOneLineError(error, "data folder not found", missing);
    }

    [Fact]
    public void NoImages()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notes.txt"), "nothing here");
        var (exit, _, error) = Invoke("pseudolabel", "--data", dir.Path, "--out", dir.File("out"));
        Assert.NotEqual(0, exit);
        AssertOneLineError(error, "no image_<pid>.nii.gz files", dir.Path);
    }

    [Fact]
    public void CorruptImageIsNamedAndLeavesNoPartialFile()
    {
        using var data = new TempDir();
        using var outDir = new TempDir();
        var broken = data.File("image_7.nii.gz");
        var gz = File.ReadAllBytes(TestData("image_15.nii.gz"));
        File.WriteAllBytes(broken, gz[..(gz.Length / 2)]);

        var (exit, _, error) = Invoke("pseudolabel", "--data", data.Path, "--out", outDir.Path, "--threads", "1", "--dataset", "chaos");
        Assert.NotEqual(0, exit);
        AssertOneLineError(error, broken);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outDir.Path));
    }

    [Fact]
    public void TwoFilesWithTheSamePid()
    {
        using var data = new TempDir();
        File.WriteAllText(data.File("image_3.nii.gz"), "");
        File.WriteAllText(data.File("image_03.nii.gz"), "");
        var (exit, _, error) = Invoke("pseudolabel", "--data", data.Path, "--out", data.File("out"));
        Assert.NotEqual(0, exit);
        AssertOneLineError(error, "pid 3", "image_03.nii.gz", "image_3.nii.gz");
    }

    [Fact]
    public void ThreadsMustBePositive()
    {
        using var data = new TempDir();
        var (exit, _, error) = Invoke("pseudolabel", "--data", data.Path, "--out", data.Path, "--threads", "0");
        Assert.NotEqual(0, exit);
        Assert.Contains("--threads must be at least 1", error);
    }
}
