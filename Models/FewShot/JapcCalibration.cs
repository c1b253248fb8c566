using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>How calibrated prototypes are formed from the joint attention output (METHODS §4).</summary>
public enum JapcForm
{
    /// <summary>The paper's form: P̃ = A V.</summary>
    Attention,

    /// <summary>The allowed variant: P̃ = P + γ (A V − P), γ learnable and 0 at initialisation, so training starts at the baseline.</summary>
    GatedResidual,
}

/// <summary>
/// JAPC's settings (METHODS §4). CalibWeight multiplies L_calib. StageOneFraction is the share of the
/// iterations trained without calibration (plain ALP on rater 0): 0.5 is the two-stage schedule, 0 calibrates
/// from the start (e.g. when resuming from a stage-1 baseline checkpoint).
/// </summary>
public sealed record JapcConfig(JapcForm Form = JapcForm.Attention, double CalibWeight = 1.0, double StageOneFraction = 0.5)
{
    public static JapcConfig Default => new();

    /// <summary>Whether iteration <paramref name="iteration"/> (0-based) of <paramref name="iterations"/> is in stage 2 (calibrated).</summary>
    public bool CalibratesAt(int iteration, int iterations) => iteration >= (int)Math.Round(StageOneFraction * iterations);
}

/// <summary>
/// Joint attention over all raters' prototypes of one class, with weights shared by fg and bg:
/// Q = P W_q, K = Δ W_k, V = P, P̃ = softmax(Q Kᵀ/√D) V, where P stacks every rater's prototypes and
/// Δ = P − p⁽⁰⁾ their deviations from the consensus prototype. Keys carry only how a prototype departs from
/// the consensus, so attention mixes raters by their style; values are the prototypes themselves.
/// </summary>
public sealed class JapcCalibration : Module
{
    public JapcCalibration(int channels, JapcForm form, Generator init, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        Form = form;
        // Xavier (Glorot) uniform for a D × D matrix: bound √(6 / (fan_in + fan_out)).
        double bound = Math.Sqrt(6.0 / (channels + channels));
        Wq = RegisterParameter("w_q", Tensor.Uniform([channels, channels], init, -bound, bound, dtype, accelerator));
        Wk = RegisterParameter("w_k", Tensor.Uniform([channels, channels], init, -bound, bound, dtype, accelerator));
        if (form == JapcForm.GatedResidual) Gamma = RegisterParameter("gamma", Tensor.Zeros([1], dtype, accelerator));
    }

    public JapcForm Form { get; }

    public Variable Wq { get; }

    public Variable Wk { get; }

    /// <summary>The residual gate; null in the <see cref="JapcForm.Attention"/> form.</summary>
    public Variable? Gamma { get; }

    /// <summary>Calibrated prototypes of one class, one [m_r, D] per rater, from each rater's [m_r, D] and the consensus [1, D].</summary>
    public IReadOnlyList<Variable> Forward(IReadOnlyList<Variable> raterPrototypes, Variable consensus) =>
        Calibrate(raterPrototypes, consensus, Wq, Wk, Gamma);

    /// <summary>Δ = P − p⁽⁰⁾ for the stacked prototypes of all raters [N_total, D].</summary>
    public static Variable Deviations(IReadOnlyList<Variable> raterPrototypes, Variable consensus) =>
        F.Sub(F.Concat(raterPrototypes, 0), consensus);

    /// <summary>The calibration with explicit weights (so gradient checks can treat them as inputs); gamma null = the attention form.</summary>
    public static IReadOnlyList<Variable> Calibrate(IReadOnlyList<Variable> raterPrototypes, Variable consensus, Variable wq, Variable wk, Variable? gamma)
    {
        var p = F.Concat(raterPrototypes, 0);
        var delta = F.Sub(p, consensus);
        var mixed = F.Attention(F.MatMul(p, wq), F.MatMul(delta, wk), p);
        var calibrated = gamma == null ? mixed : F.Add(p, F.Mul(gamma, F.Sub(mixed, p)));
        var result = new List<Variable>(raterPrototypes.Count);
        int start = 0;
        foreach (var rater in raterPrototypes)
        {
            result.Add(F.Narrow(calibrated, 0, start, rater.Shape[0]));
            start += rater.Shape[0];
        }
        return result;
    }
}
