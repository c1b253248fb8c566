using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// The clipped cosine schedule of METHODS §3 (Nichol &amp; Dhariwal): ᾱ(t) = cos²(((t/T) + s)/(1 + s)·π/2),
/// β_t = 1 − ᾱ(t)/ᾱ(t−1) clipped to [βmin, βmax], then α_t = 1 − β_t and ᾱ_t = Π_{i≤t} α_i recomputed from the
/// clipped β, so the forward and reverse processes use one consistent chain. Arrays are indexed by t = 0..T
/// with β_0 = 0 and ᾱ_0 = 1.
/// </summary>
public sealed class DiffusionSchedule
{
    public DiffusionSchedule(int steps, double offset, double betaMin, double betaMax)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "need at least one step");
        if (!(0 < betaMin && betaMin <= betaMax && betaMax < 1)) throw new ArgumentException($"β clip [{betaMin}, {betaMax}] must lie in (0, 1)");
        Steps = steps;
        Beta = new double[steps + 1];
        Alpha = new double[steps + 1];
        AlphaBar = new double[steps + 1];
        Alpha[0] = AlphaBar[0] = 1;
        for (int t = 1; t <= steps; t++)
        {
            double raw = 1 - CosineAlphaBar(t, steps, offset) / CosineAlphaBar(t - 1, steps, offset);
            Beta[t] = Math.Clamp(raw, betaMin, betaMax);
            Alpha[t] = 1 - Beta[t];
            AlphaBar[t] = AlphaBar[t - 1] * Alpha[t];
        }
    }

    public int Steps { get; }

    public double[] Beta { get; }

    public double[] Alpha { get; }

    public double[] AlphaBar { get; }

    /// <summary>The unclipped ᾱ(t) of the cosine schedule.</summary>
    public static double CosineAlphaBar(int t, int steps, double offset)
    {
        double c = Math.Cos(((double)t / steps + offset) / (1 + offset) * Math.PI / 2);
        return c * c;
    }

    /// <summary>The coefficients of the reverse step t → t−1 (the DDPM posterior q(p_{t−1} | p_t, p̂0)).</summary>
    public DiffusionStep Step(int t)
    {
        if (t < 1 || t > Steps) throw new ArgumentOutOfRangeException(nameof(t), t, $"step must be in 1..{Steps}");
        double ab = AlphaBar[t], abPrev = AlphaBar[t - 1];
        double c0 = Math.Sqrt(abPrev) * Beta[t] / (1 - ab);
        double c1 = Math.Sqrt(Alpha[t]) * (1 - abPrev) / (1 - ab);
        double sigma = Math.Sqrt(Beta[t] * (1 - abPrev) / (1 - ab));
        return new DiffusionStep(Math.Sqrt(ab), Math.Sqrt(1 - ab), c0, c1, sigma);
    }
}
