using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Phantoms;
using static IlgpuSeg.Tests.DataPipeline.TestScans;

namespace IlgpuSeg.Tests.DataPipeline;

public class DatasetTests
{
    [Fact]
    public void PooledStatisticsEqualThoseOfTheConcatenatedVoxels()
    {
        var gen = new Random(7);
        double[][] volumes = [.. new[] { 1000, 1, 4097, 250 }.Select(n => Enumerable.Range(0, n).Select(_ => 255 * gen.NextDouble() + 30).ToArray())];
        var pooled = ZScore.Pooled(volumes);
        var all = ZScore.Statistics(volumes.SelectMany(v => v).ToArray());
        Assert.Equal(all.Mean, pooled.Mean, 1e-10);
        Assert.Equal(all.Std, pooled.Std, 1e-10);
        Assert.NotEqual(ZScore.Statistics(volumes[0]).Mean, pooled.Mean);
    }

    [Fact]
    public void ScansLoadZScoredWithGivenStatisticsWhenAsked()
    {
        var stats = ScanFolder.PooledStatistics(TestDataDir, [39, 15]);
        var folder = ScanFolder.Load(TestDataDir, new ScanFolderOptions { Intensity = stats });
        var pooled = folder.Scans.SelectMany(s => s.Image.Data).Select(v => (double)v).ToArray();
        Assert.InRange(pooled.Average(), -1e-5, 1e-5);
        Assert.InRange(Math.Sqrt(pooled.Average(v => v * v)), 1 - 1e-5, 1 + 1e-5);
        // Each scan alone is not zero-mean: the two scans' intensities differ.
        Assert.All(folder.Scans, s => Assert.True(Math.Abs(s.Image.Data.Average(v => (double)v)) > 1e-3));
        var image = Nifti.Read(Path.Combine(TestDataDir, "image_15.nii.gz")).GetData();
        Assert.Equal(ZScore.Normalize(image, stats, "x"), folder.Get(15).Image.Data);
    }

    [Fact]
    public void LoadsTheCommittedChaosScansSortedAndZScored()
    {
        var folder = ScanFolder.Load(TestDataDir);
        Assert.Equal([15, 39], folder.AllPids);
        Assert.Equal([15, 39], folder.Scans.Select(s => s.Pid));
        foreach (var scan in folder.Scans)
        {
            Assert.Equal((256, 256, 31), (scan.Image.Width, scan.Image.Height, scan.Image.Depth));
            var mean = scan.Image.Data.Average(v => (double)v);
            var std = Math.Sqrt(scan.Image.Data.Average(v => (v - mean) * (v - mean)));
            Assert.InRange(mean, -1e-5, 1e-5);
            Assert.InRange(std, 1 - 1e-5, 1 + 1e-5);
            Assert.Equal([0, 1, 2, 3, 4], scan.Label.Data.Distinct().Order());
            Assert.Null(scan.Superpixels);
            // The label's organ slices are exactly what classmap_1 lists (so label-derived z-ranges match the reference's).
            Assert.Equal(folder.ClassMap.SlicesOf("RK", scan.Pid), scan.SlicesWith(2));
        }
    }

    [Fact]
    public void SlicesAreRowsYColumnsX()
    {
        var raw = Nifti.Read(Path.Combine(TestDataDir, "label_15.nii.gz")).GetData();
        var scan = ScanFolder.Load(TestDataDir, new ScanFolderOptions { Pids = [15] }).Get(15);
        var slice = scan.Label.Slice(14);
        for (var y = 0; y < 256; y += 7)
        {
            var x = (13 * y + 5) % 256;
            Assert.Equal(raw[x + 256 * (y + 256 * 14)], slice[y, x]);
        }
        Assert.Contains(slice.Data, v => v != 0);
    }

    [Theory]
    [InlineData("image_15.nii.gz", 15)]
    [InlineData("image_0012.nii.gz", 12)]
    [InlineData("/data/set2/img3_scan_7.nii.gz", 7)]
    [InlineData("image_.nii.gz", null)]
    public void PatientIdIsTheLastIntegerOfTheFileName(string path, int? pid) => Assert.Equal(pid, PatientIds.Parse(path));

    [Fact]
    public void ErrorsNameTheFile()
    {
        using var temp = new TempFolder();
        var noScans = Assert.Throws<DataFormatException>(() => ScanFolder.Load(temp.Path));
        Assert.Contains("no scans", noScans.Message);

        PhantomGenerator.WriteFolder(temp.Path, new PhantomOptions { Width = 16, Height = 16, Depth = 6 }, 1, [3]);
        var missingSuper = Assert.Throws<DataFormatException>(() => ScanFolder.Load(temp.Path, new ScanFolderOptions { RequireSuperpixels = true }));
        Assert.EndsWith("superpix-MIDDLE_3.nii.gz", missingSuper.FilePath);

        var notThere = Assert.Throws<DataFormatException>(() => ScanFolder.Load(temp.Path, new ScanFolderOptions { Pids = [4] }));
        Assert.Contains("4", notThere.Problem);

        var label = Path.Combine(temp.Path, "label_3.nii.gz");
        Nifti.Write(label, NiftiImage.Create([16, 15, 6], [1, 1, 1], NiftiDataType.UInt8, new double[16 * 15 * 6]));
        var shape = Assert.Throws<DataFormatException>(() => ScanFolder.Load(temp.Path));
        Assert.Equal(label, shape.FilePath);
        Assert.Contains("does not match", shape.Problem);

        File.Delete(label);
        var missingLabel = Assert.Throws<DataFormatException>(() => ScanFolder.Load(temp.Path));
        Assert.Equal(label, missingLabel.FilePath);

        PhantomGenerator.WriteFolder(temp.Path, new PhantomOptions { Width = 16, Height = 16, Depth = 6 }, 1, [3]);
        File.Delete(Path.Combine(temp.Path, "classmap_1.json"));
        var noMap = Assert.Throws<DataFormatException>(() => ScanFolder.Load(temp.Path));
        Assert.EndsWith("classmap_1.json", noMap.FilePath);
    }

    [Fact]
    public void CropKeepsTheFirstRowsAndColumns()
    {
        using var temp = new TempFolder();
        PhantomGenerator.WriteFolder(temp.Path, new PhantomOptions { Width = 20, Height = 18, Depth = 4 }, 2, [1]);
        var full = ScanFolder.Load(temp.Path).Get(1);
        var cropped = ScanFolder.Load(temp.Path, new ScanFolderOptions { CropInPlane = 16 }).Get(1);
        Assert.Equal((16, 16, 4), (cropped.Label.Width, cropped.Label.Height, cropped.Label.Depth));
        for (var z = 0; z < 4; z++)
            for (var y = 0; y < 16; y++)
                for (var x = 0; x < 16; x++)
                {
                    Assert.Equal(full.Label[x, y, z], cropped.Label[x, y, z]);
                    Assert.Equal(full.Image[x, y, z], cropped.Image[x, y, z]);
                }
    }

    [Fact]
    public void SuperpixelVolumesLoadAsIntegerLabels()
    {
        using var temp = new TempFolder();
        var options = new PhantomOptions { Width = 16, Height = 16, Depth = 5 };
        PhantomGenerator.WriteFolder(temp.Path, options, 3, [2]);
        var label = ScanFolder.Load(temp.Path).Get(2).Label;
        var super = GridSuperpixels(label, 4);
        Nifti.Write(Path.Combine(temp.Path, "superpix-MIDDLE_2.nii.gz"),
            NiftiImage.Create([16, 16, 5], [1, 1, 1], NiftiDataType.Int16, Array.ConvertAll(super.Data, v => (double)v)));
        var scan = ScanFolder.Load(temp.Path, new ScanFolderOptions { RequireSuperpixels = true }).Get(2);
        Assert.Equal(super.Data, scan.Superpixels!.Data);
    }
}
