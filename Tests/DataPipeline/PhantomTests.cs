using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;
using static IlgpuSeg.Tests.DataPipeline.TestScans;

namespace IlgpuSeg.Tests.DataPipeline;

public class PhantomTests
{
    private static readonly PhantomOptions Small = new();

    [Fact]
    public void PhantomsAreSeededPerScan()
    {
        var a = PhantomGenerator.Generate(Small, 5, 3);
        var b = PhantomGenerator.Generate(Small, 5, 3);
        var c = PhantomGenerator.Generate(Small, 5, 4);
        Assert.Equal(a.Image.Data, b.Image.Data);
        Assert.Equal(a.Label.Data, b.Label.Data);
        Assert.NotEqual(a.Label.Data, c.Label.Data);
        Assert.NotEqual(a.Image.Data, PhantomGenerator.Generate(Small, 6, 3).Image.Data);
    }

    [Fact]
    public void EveryScanHasFourOrgansInsideABody()
    {
        for (var pid = 1; pid <= 8; pid++)
        {
            var (image, label) = PhantomGenerator.Generate(Small, 1, pid);
            var scan = new Scan(pid, image, label, null);
            for (var cls = 1; cls <= 4; cls++)
            {
                var slices = scan.SlicesWith(cls);
                Assert.InRange(slices.Length, 4, Small.Depth - 1); // present, and not filling the whole stack
                Assert.True(label.Data.Count(v => v == cls) >= 60, $"scan {pid} class {cls} is too small");
            }
            Assert.Equal(0, label[0, 0, 10]);
            Assert.InRange(image[0, 0, 10], -40, 40); // outside the body: noise around 0
            // Organs differ from each other in mean brightness, so a prototype can tell them apart.
            var means = Enumerable.Range(1, 4).Select(c => image.Data.Where((_, i) => label.Data[i] == c).Average()).ToArray();
            for (var i = 0; i < 4; i++)
                for (var j = i + 1; j < 4; j++) Assert.True(Math.Abs(means[i] - means[j]) > 10, $"scan {pid}: organ means {string.Join(", ", means)}");
        }
    }

    [Fact]
    public void PhantomFolderRunsThroughLoaderSamplersAndEvaluator()
    {
        using var temp = new TempFolder();
        var pids = Enumerable.Range(1, 10).ToArray();
        PhantomGenerator.WriteFolder(temp.Path, Small, 77, pids);
        var folder = ScanFolder.Load(temp.Path);
        Assert.Equal(pids, folder.AllPids);
        var scan = folder.Get(4);
        Assert.Equal(PhantomGenerator.Generate(Small, 77, 4).Label.Data, scan.Label.Data);
        Assert.Equal(scan.SlicesWith(3), folder.ClassMap.SlicesOf("LK", 4));
        var anyForeground = Enumerable.Range(0, scan.Depth).Where(z => scan.Label.SliceSpan(z).ContainsAnyExcept(0)).ToArray();
        Assert.Equal(anyForeground, folder.ClassMap.SlicesOf("BG", 4));

        var plan = ProtocolFold.Create(DatasetInfo.Chaos, folder.AllPids, 0, 1, Setting.Two);
        Assert.Equal([1, 2, 3, 4], plan.Fold.QueryPids);
        Assert.Equal([5], plan.Fold.SupportPids);
        var train = plan.Fold.TrainPids.Select(folder.Get).ToArray();
        var sampler = new LabelEpisodeSampler(train, new LabelSamplerOptions { Classes = [2, 3], ExcludedClasses = plan.ExcludedClasses });
        var episode = sampler.Next(new Generator(1));
        Assert.Equal((64, 64), (episode.SupportImage.Height, episode.SupportImage.Width));

        var superScans = train.Select(s => s with { Superpixels = GridSuperpixels(s.Label, 8) }).ToArray();
        var ssl = new SuperpixelEpisodeSampler(superScans, folder.ClassMap, new SuperpixelSamplerOptions { ExcludedClasses = plan.ExcludedClasses, Raters = 3 });
        Assert.Equal(3, ssl.Next(new Generator(2)).QueryMasks.Count);

        var queries = plan.Fold.QueryPids.Select(folder.Get).ToArray();
        foreach (var cls in plan.TestClasses)
        {
            var result = FewShotEvaluator.Evaluate(folder.Get(5), queries, [cls], (s, m, q) => Truth(queries, q, cls));
            Assert.Equal(1, result.MeanDice);
        }
    }
}
