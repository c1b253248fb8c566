using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Tests.Cli;

public class CompareTests
{
    [Fact]
    public void PairedTTestMatchesAHandComputation()
    {
        // d = [1, 2, 3, 4]: mean 2.5, sd √(5/3), t = 2.5 / (√(5/3)/2) = 3.8730; p (df 3) = 0.03047 (scipy.stats.ttest_rel).
        var (t, p) = PairedTests.PairedT([2, 4, 6, 8], [1, 2, 3, 4]);
        Assert.Equal(3.872983, t, 5);
        Assert.Equal(0.030466, p, 4);
    }

    [Fact]
    public void WilcoxonExactPValues()
    {
        // All 5 differences positive: W+ = 15, exact two-sided p = 2/32 = 0.0625 (scipy.stats.wilcoxon).
        var (w, p) = PairedTests.WilcoxonSignedRank([1.1, 2.2, 3.3, 4.4, 5.5], [1, 2, 3, 4, 5]);
        Assert.Equal(15, w);
        Assert.Equal(0.0625, p, 10);
        // Mixed signs: d = [1, -2, 3, -4, 5, 6]: W+ = 15, |W+ − 10.5| = 4.5; 14 rank subsets sum to ≤ 6 and 14 to ≥ 15,
        // so the exact two-sided p = 28/64 = 0.4375 (scipy.stats.wilcoxon gives the same).
        (w, p) = PairedTests.WilcoxonSignedRank([1, -2, 3, -4, 5, 6], [0, 0, 0, 0, 0, 0]);
        Assert.Equal(15, w);
        Assert.Equal(0.4375, p, 10);
    }

    [Fact]
    public void CompareReadsTwoDiceTablesAndRejectsOthers()
    {
        var dir = Directory.CreateTempSubdirectory("ilgpuseg-compare").FullName;
        try
        {
            var a = Path.Combine(dir, "a.csv");
            var b = Path.Combine(dir, "b.csv");
            File.WriteAllText(a, "pid,class,rater,dice,precision,recall,z_min,z_max\n1,RK,0,0.8,1,1,0,1\n2,RK,0,0.7,1,1,0,1\n3,RK,0,0.9,1,1,0,1\n");
            File.WriteAllText(b, "pid,class,rater,dice,precision,recall,z_min,z_max\n1,RK,0,0.6,1,1,0,1\n2,RK,0,0.65,1,1,0,1\n3,RK,0,0.5,1,1,0,1\n");
            var table = CompareCommand.Run(a, b);
            Assert.Contains("| RK | 3 | 80.00 | 58.33 |", table);
            // Three raters per scan in B: each scan enters the test once, with its raters' mean.
            File.WriteAllText(b, "pid,class,rater,dice,precision,recall,z_min,z_max\n1,RK,0,0.5,1,1,0,1\n1,RK,1,0.7,1,1,0,1\n1,RK,2,0.6,1,1,0,1\n"
                + "2,RK,0,0.65,1,1,0,1\n2,RK,1,0.65,1,1,0,1\n2,RK,2,0.65,1,1,0,1\n3,RK,0,0.4,1,1,0,1\n3,RK,1,0.6,1,1,0,1\n3,RK,2,0.5,1,1,0,1\n");
            Assert.Contains("| RK | 3 | 80.00 | 58.33 |", CompareCommand.Run(a, b));
            File.WriteAllText(b, "something else\n");
            Assert.Contains(b, Assert.Throws<FormatException>(() => CompareCommand.Run(a, b)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
