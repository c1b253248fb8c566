namespace IlgpuSeg.Engine;

/// <summary>
/// The scalar coefficients of one DDPM reverse step t → t−1 (METHODS §3): √ᾱ_t, √(1 − ᾱ_t), the posterior-mean
/// weights c0 (on p̂0) and c1 (on p_t), and σ_t.
/// </summary>
public readonly record struct DiffusionStep(double SqrtAlphaBar, double SqrtOneMinusAlphaBar, double C0, double C1, double Sigma)
{
    /// <summary>∂p_{t−1}/∂p_t through both p̂0 and the direct term: c0/√ᾱ_t + c1.</summary>
    public double DPt => C0 / SqrtAlphaBar + C1;

    /// <summary>∂p_{t−1}/∂ε̂ = −c0·√(1 − ᾱ_t)/√ᾱ_t.</summary>
    public double DEpsHat => -C0 * SqrtOneMinusAlphaBar / SqrtAlphaBar;
}

public static partial class Ops
{
    /// <summary>
    /// One fused reverse step: p̂0 = (p_t − √(1−ᾱ_t) ε̂)/√ᾱ_t, p_{t−1} = c0·p̂0 + c1·p_t + σ_t z. z is the step's
    /// noise, or null at the last step (t = 1), where σ_1 = 0 anyway.
    /// </summary>
    public static Tensor DiffusionReverseStep(Tensor pt, Tensor epsHat, Tensor? z, DiffusionStep step)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        CheckDiffusionShapes(pt, epsHat, "ε̂");
        if (z != null) CheckDiffusionShapes(pt, z, "z");
        var y = pt.NewEmpty(pt.Shape);
        pt.Accelerator.Kernels.DiffusionReverseStep(pt.Contiguous(), epsHat.Contiguous(), z?.Contiguous(), y, step);
        return y;
    }

    /// <summary>The gradients of <see cref="DiffusionReverseStep"/> with respect to p_t and ε̂ (z is a constant).</summary>
    public static (Tensor DPt, Tensor DEpsHat) DiffusionReverseStepBackward(Tensor dy, DiffusionStep step)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        var dpt = dy.NewEmpty(dy.Shape);
        var deps = dy.NewEmpty(dy.Shape);
        dy.Accelerator.Kernels.DiffusionReverseStepBackward(dy.Contiguous(), dpt, deps, step);
        return (dpt, deps);
    }

    private static void CheckDiffusionShapes(Tensor pt, Tensor other, string name)
    {
        CheckPair("diffusion_reverse_step", pt, other);
        if (!pt.Shape.SequenceEqual(other.Shape))
            throw new ShapeException($"diffusion_reverse_step: {name} {other.ShapeString} does not match p_t {pt.ShapeString}");
    }
}
