using IlgpuSeg.Engine;
using MathNet.Numerics.Distributions;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>The paired comparison of one arm with the control over units (METHODS §7.4).</summary>
public sealed record PairedResult(int Units, double MeanDelta, double CiLow, double CiHigh, double PSignFlip, double SigmaD, double SmallestDetectableEffect);

/// <summary>
/// METHODS §7.4 over units u = (fold, split, seed) with d_u = arm − control: the mean of d, its 95 % t-interval,
/// a two-sided sign-flip test (exact over all 2^n sign patterns for n ≤ 20, else 2^20 seeded random patterns),
/// σ_d, and the smallest effect a paired t-test over these units detects with 80 % power at α = 0.05.
/// </summary>
public static class PairedAnalysis
{
    public const double Alpha = 0.05, Power = 0.8;
    public const int ExactUpTo = 20;

    public const string Formulas =
        "d_u = Dice(arm) − Dice(control) per unit u = (fold, split, seed); 95 % interval: mean(d) ± t(0.975, n−1)·σ_d/√n; "
        + "sign-flip p: share of the 2^n sign patterns s with |Σ s_u·d_u| ≥ |Σ d_u| (two-sided; n > 20: 2^20 seeded random patterns, (1 + hits)/(1 + 2^20)); "
        + "σ_d: standard deviation of d (n − 1); smallest detectable effect: (t(0.975, n−1) + t(0.8, n−1))·σ_d/√n (paired t, two-sided α = 0.05, power 0.8).";

    public static PairedResult Analyse(IReadOnlyList<double> deltas)
    {
        int n = deltas.Count;
        if (n == 0) throw new ArgumentException("no units to analyse");
        double mean = deltas.Average();
        if (n < 2) return new PairedResult(n, mean, double.NaN, double.NaN, SignFlipP(deltas), double.NaN, double.NaN);
        double sigma = Math.Sqrt(deltas.Sum(d => (d - mean) * (d - mean)) / (n - 1));
        double se = sigma / Math.Sqrt(n);
        double tAlpha = StudentT.InvCDF(0, 1, n - 1, 1 - Alpha / 2), tPower = StudentT.InvCDF(0, 1, n - 1, Power);
        return new PairedResult(n, mean, mean - tAlpha * se, mean + tAlpha * se, SignFlipP(deltas), sigma, (tAlpha + tPower) * se);
    }

    /// <summary>Two-sided sign-flip p-value of the sum of <paramref name="deltas"/> (each unit's sign is exchangeable under H0).</summary>
    public static double SignFlipP(IReadOnlyList<double> deltas)
    {
        int n = deltas.Count;
        double observed = Math.Abs(deltas.Sum());
        double tolerance = 1e-9 * (1 + deltas.Sum(Math.Abs));   // sums that differ only by rounding count as equal
        if (n <= ExactUpTo)
        {
            long total = 1L << n, extreme = 0;
            for (long pattern = 0; pattern < total; pattern++)
                if (Math.Abs(SignedSum(deltas, i => (pattern >> i & 1) != 0)) >= observed - tolerance) extreme++;
            return (double)extreme / total;
        }
        const int draws = 1 << ExactUpTo;
        var stream = new Generator(seed: 0).Take(draws * ((n + 127) / 128));
        long hits = 0;
        for (long b = 0; b < draws; b++)
        {
            long first = b * ((n + 127) / 128);
            if (Math.Abs(SignedSum(deltas, i => (Word(stream.Block(first + i / 128), i % 128 / 32) >> (i % 32) & 1) != 0)) >= observed - tolerance) hits++;
        }
        return (1.0 + hits) / (1.0 + draws);
    }

    private static double SignedSum(IReadOnlyList<double> deltas, Func<int, bool> flipped)
    {
        double sum = 0;
        for (int i = 0; i < deltas.Count; i++) sum += flipped(i) ? -deltas[i] : deltas[i];
        return sum;
    }

    private static uint Word((uint, uint, uint, uint) block, int k) => k switch { 0 => block.Item1, 1 => block.Item2, 2 => block.Item3, _ => block.Item4 };
}
