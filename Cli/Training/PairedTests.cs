using MathNet.Numerics.Distributions;

namespace IlgpuSeg.Cli.Training;

/// <summary>Two-sided paired tests over scans, as the JAPC paper reports p-values.</summary>
public static class PairedTests
{
    /// <summary>Paired t-test: t = mean(d) / (sd(d)/√n) with n − 1 degrees of freedom. NaN p when n &lt; 2 or all d equal.</summary>
    public static (double T, double P) PairedT(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var d = a.Zip(b, (x, y) => x - y).ToArray();
        int n = d.Length;
        if (n < 2) return (double.NaN, double.NaN);
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        if (sd == 0) return (double.NaN, double.NaN);
        double t = mean / (sd / Math.Sqrt(n));
        return (t, 2 * (1 - StudentT.CDF(0, 1, n - 1, Math.Abs(t))));
    }

    /// <summary>
    /// Wilcoxon signed-rank test (zero differences dropped, ties given average ranks). The p-value is exact
    /// (enumerating all 2^n sign patterns of the ranks) for n ≤ 20, else the normal approximation with tie correction.
    /// </summary>
    public static (double W, double P) WilcoxonSignedRank(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var d = a.Zip(b, (x, y) => x - y).Where(v => v != 0).ToArray();
        int n = d.Length;
        if (n == 0) return (0, 1);
        var order = Enumerable.Range(0, n).OrderBy(i => Math.Abs(d[i])).ToArray();
        var ranks = new double[n];
        double tieTerm = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && Math.Abs(d[order[j + 1]]) == Math.Abs(d[order[i]])) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = rank;
            double t = j - i + 1;
            tieTerm += t * t * t - t;
            i = j + 1;
        }
        double wPlus = Enumerable.Range(0, n).Where(i => d[i] > 0).Sum(i => ranks[i]);
        if (n <= 20)
        {
            // Count sign patterns whose W+ is at least as extreme (two-sided, around the mean n(n+1)/4).
            double centre = n * (n + 1) / 4.0, observed = Math.Abs(wPlus - centre);
            long extreme = 0, total = 1L << n;
            for (long mask = 0; mask < total; mask++)
            {
                double w = 0;
                for (int i = 0; i < n; i++) if ((mask >> i & 1) != 0) w += ranks[i];
                if (Math.Abs(w - centre) >= observed - 1e-9) extreme++;
            }
            return (wPlus, (double)extreme / total);
        }
        double meanW = n * (n + 1) / 4.0;
        double varW = n * (n + 1) * (2 * n + 1) / 24.0 - tieTerm / 48.0;
        double z = (wPlus - meanW) / Math.Sqrt(varW);
        return (wPlus, Math.Min(1, 2 * (1 - Normal.CDF(0, 1, Math.Abs(z)))));
    }
}
