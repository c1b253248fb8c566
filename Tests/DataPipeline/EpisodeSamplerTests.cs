using IlgpuSeg.Data.Augmentation;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;
using IlgpuSeg.Engine;
using static IlgpuSeg.Tests.DataPipeline.TestScans;

namespace IlgpuSeg.Tests.DataPipeline;

public class EpisodeSamplerTests
{
    private static readonly Lazy<ScanFolder> Chaos = new(() => ScanFolder.Load(TestDataDir));

    /// <summary>The committed CHAOS scans with grid superpixels over their organs (stand-ins for Felzenszwalb's).</summary>
    private static Scan[] WithSuperpixels() =>
        Chaos.Value.Scans.Select(s => s with { Superpixels = GridSuperpixels(s.Label, 24) }).ToArray();

    [Fact]
    public void SuperpixelEpisodeIsTheBinarisedSuperpixelOnTheSameSlice()
    {
        var scans = WithSuperpixels();
        var sampler = new SuperpixelEpisodeSampler(scans, Chaos.Value.ClassMap, new SuperpixelSamplerOptions { Augmentation = AugmentationOptions.None });
        var g = new Generator(1);
        for (var i = 0; i < 20; i++)
        {
            var e = sampler.Next(g);
            var scan = scans.Single(s => s.Pid == e.Info.Pid);
            Assert.Equal(EpisodeSource.Superpixel, e.Info.Source);
            Assert.Equal(scan.Image.Slice(e.Info.Slice).Data, e.SupportImage.Data);
            Assert.Equal(e.SupportImage.Data, e.QueryImage.Data);
            var expected = scan.Superpixels!.Slice(e.Info.Slice).Data.Select(v => v == e.Info.LabelId ? (byte)1 : (byte)0);
            Assert.Equal(expected, e.SupportMasks[0].Data);
            Assert.Equal(e.SupportMasks[0].Data, e.QueryMasks[0].Data);
            Assert.Equal(1, e.Raters);
        }
    }

    [Theory]
    [InlineData(SuperpixelIdRange.ExcludeMax)]
    [InlineData(SuperpixelIdRange.IncludeMax)]
    public void SuperpixelIdRangeFollowsTheOption(SuperpixelIdRange range)
    {
        var sampler = new SuperpixelEpisodeSampler(WithSuperpixels(), Chaos.Value.ClassMap,
            new SuperpixelSamplerOptions { IdRange = range, Augmentation = AugmentationOptions.None });
        Assert.All(sampler.Slices, s => Assert.True(s.MaxId >= (range == SuperpixelIdRange.ExcludeMax ? 2 : 1)));
        var g = new Generator(2);
        var hitMax = false;
        for (var i = 0; i < 300; i++)
        {
            var e = sampler.Next(g);
            var max = sampler.Slices.Single(s => s.Pid == e.Info.Pid && s.Slice == e.Info.Slice).MaxId;
            Assert.InRange(e.Info.LabelId, 1, max);
            hitMax |= e.Info.LabelId == max;
        }
        Assert.Equal(range == SuperpixelIdRange.IncludeMax, hitMax);
    }

    [Fact]
    public void SettingTwoDropsSlicesWithExcludedClassesButNotTheBackgroundEntry()
    {
        var map = Chaos.Value.ClassMap;
        var all = new SuperpixelEpisodeSampler(WithSuperpixels(), map, new SuperpixelSamplerOptions());
        var setting2 = new SuperpixelEpisodeSampler(WithSuperpixels(), map, new SuperpixelSamplerOptions { ExcludedClasses = [2, 3] });
        Assert.True(setting2.Slices.Count < all.Slices.Count);
        Assert.All(setting2.Slices, s =>
        {
            Assert.DoesNotContain(s.Slice, map.SlicesOf("RK", s.Pid));
            Assert.DoesNotContain(s.Slice, map.SlicesOf("LK", s.Pid));
        });
        // Liver-only slices stay although the "BG" entry lists them (it lists every slice with foreground).
        Assert.Contains(setting2.Slices, s => map.SlicesOf("BG", s.Pid).Contains(s.Slice));
    }

    [Fact]
    public void PseudoRatersAreStyledVersionsOfRaterZero()
    {
        var sampler = new SuperpixelEpisodeSampler(WithSuperpixels(), Chaos.Value.ClassMap,
            new SuperpixelSamplerOptions { Raters = 3, Augmentation = AugmentationOptions.None, IdRange = SuperpixelIdRange.IncludeMax });
        var g = new Generator(4);
        for (var i = 0; i < 10; i++)
        {
            var e = sampler.Next(g);
            Assert.Equal(3, e.SupportMasks.Count);
            Assert.Equal(3, e.QueryMasks.Count);
            Assert.Empty(e.Info.Styles[0].Operations);
            for (var r = 1; r < 3; r++)
            {
                Assert.Equal(e.Info.Styles[r].Apply(e.SupportMasks[0]).Data, e.SupportMasks[r].Data);
                Assert.True(Morphology.Count(e.SupportMasks[r]) > 0);
            }
        }
    }

    [Fact]
    public void AugmentedEpisodesAreIndependentCopiesAndDeterministic()
    {
        var options = new SuperpixelSamplerOptions { Raters = 2 };
        var a = new SuperpixelEpisodeSampler(WithSuperpixels(), Chaos.Value.ClassMap, options).Next(new Generator(9));
        var b = new SuperpixelEpisodeSampler(WithSuperpixels(), Chaos.Value.ClassMap, options).Next(new Generator(9));
        Assert.NotEqual(a.SupportImage.Data, a.QueryImage.Data);
        Assert.Equal(a.SupportImage.Data, b.SupportImage.Data);
        Assert.Equal(a.QueryMasks[1].Data, b.QueryMasks[1].Data);
        Assert.Equal((256, 256), (a.QueryImage.Height, a.QueryImage.Width));
    }

    [Fact]
    public void SuperpixelSamplerNeedsSuperpixels()
    {
        var e = Assert.Throws<ArgumentException>(() => new SuperpixelEpisodeSampler(Chaos.Value.Scans, Chaos.Value.ClassMap, new SuperpixelSamplerOptions()));
        Assert.Contains("superpix-MIDDLE_15", e.Message);
    }

    [Fact]
    public void LabelEpisodesPickAPresentClassAndAvoidExcludedOnes()
    {
        var scans = Chaos.Value.Scans;
        var sampler = new LabelEpisodeSampler(scans, new LabelSamplerOptions
        {
            Classes = [1, 4],
            ExcludedClasses = [2, 3],
            Augmentation = AugmentationOptions.None,
            Raters = SimulatedRaters.Default,
        });
        var g = new Generator(5);
        var seen = new HashSet<int>();
        for (var i = 0; i < 40; i++)
        {
            var e = sampler.Next(g);
            seen.Add(e.Info.LabelId);
            var label = scans.Single(s => s.Pid == e.Info.Pid).Label.Slice(e.Info.Slice);
            Assert.Contains(e.Info.LabelId, label.Data);
            Assert.DoesNotContain(2, label.Data);
            Assert.DoesNotContain(3, label.Data);
            Assert.Equal(3, e.SupportMasks.Count);
            var truth = SameSliceEpisode.Binarize(label, e.Info.LabelId);
            Assert.Equal(SimulatedRaters.Default[1].Apply(truth).Data, e.SupportMasks[1].Data);
        }
        Assert.Equal([1, 4], seen.Order());
    }
}
