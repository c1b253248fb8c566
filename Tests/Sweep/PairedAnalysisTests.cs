using IlgpuSeg.Cli.Sweep;

namespace IlgpuSeg.Tests.Sweep;

/// <summary>METHODS §7.4's statistics against values worked out by hand and by brute force.</summary>
public class PairedAnalysisTests
{
    [Fact]
    public void FourUnitsMatchTheTextbookValues()
    {
        // d = 1, 2, 3, 4: mean 2.5, s = √(5/3) = 1.29099, s/√4 = 0.645497; t(0.975, 3) = 3.182446, t(0.8, 3) = 0.978472.
        var r = PairedAnalysis.Analyse([1, 2, 3, 4]);
        Assert.Equal(4, r.Units);
        Assert.Equal(2.5, r.MeanDelta, 12);
        Assert.Equal(1.290994, r.SigmaD, 5);
        Assert.Equal(2.5 - 3.182446 * 0.645497, r.CiLow, 4);
        Assert.Equal(2.5 + 3.182446 * 0.645497, r.CiHigh, 4);
        Assert.Equal((3.182446 + 0.978472) * 0.645497, r.SmallestDetectableEffect, 4);
        // All 16 sign patterns: only all-plus and all-minus reach |Σ| = 10.
        Assert.Equal(2.0 / 16, r.PSignFlip, 12);
    }

    [Fact]
    public void SignFlipCountsTiesAndSmallSums()
    {
        // d = 1, -1, 2: |Σ| = 2; patterns with |±1 ± 1 ± 2| ≥ 2: those where 2's sign agrees with the sum: 6 of 8 (sums 4, 2, 2, 0 and mirrors).
        Assert.Equal(6.0 / 8, PairedAnalysis.SignFlipP([1, -1, 2]), 12);
        Assert.Equal(1.0, PairedAnalysis.SignFlipP([0.5]), 12);
        var one = PairedAnalysis.Analyse([3]);
        Assert.True(double.IsNaN(one.CiLow) && double.IsNaN(one.SigmaD) && double.IsNaN(one.SmallestDetectableEffect));
    }

    [Fact]
    public void BeyondTwentyUnitsTheRandomPatternsAgreeWithFullEnumeration()
    {
        var d = Enumerable.Range(0, 21).Select(i => Math.Sin(i * 1.7) + 0.3).ToArray();
        long extreme = 0, total = 1L << d.Length;
        double observed = Math.Abs(d.Sum());
        for (long pattern = 0; pattern < total; pattern++)
        {
            double s = 0;
            for (int i = 0; i < d.Length; i++) s += (pattern >> i & 1) != 0 ? -d[i] : d[i];
            if (Math.Abs(s) >= observed - 1e-9) extreme++;
        }
        double exact = (double)extreme / total;
        double sampled = PairedAnalysis.SignFlipP(d);
        Assert.InRange(sampled, exact - 0.003, exact + 0.003);
        Assert.Equal(sampled, PairedAnalysis.SignFlipP(d));   // seeded: the same every time
    }
}
