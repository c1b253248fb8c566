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

    /// <summary>
    /// METHODS §6 (default): each prototype attends over its own rater versions only (the same local cell or the
    /// global prototype of every rater), P̃ = P + (A P) W_o with W_o zero at initialisation. It cannot average one
    /// prototype with another, and starts at the baseline exactly.
    /// </summary>
    RaterAttention,
}

/// <summary>
/// JAPC's settings (METHODS §4, §6). CalibWeight multiplies L_calib. StageOneFraction is the share of the
/// iterations trained without calibration (plain ALP on rater 0): 0.5 is the two-stage schedule, 0 calibrates
/// from the start (e.g. when resuming from a stage-1 baseline checkpoint). UnitCalibration: L_calib compares
/// unit-normalised prototypes (the cosine head is scale-free; a scale-dependent penalty lets the encoder shrink
/// features to lower it); false is the first form, on raw prototypes.
/// </summary>
public sealed record JapcConfig(JapcForm Form = JapcForm.RaterAttention, double CalibWeight = 1.0, double StageOneFraction = 0.5, bool UnitCalibration = true)
{
    public static JapcConfig Default => new();

    /// <summary>Whether iteration <paramref name="iteration"/> (0-based) of <paramref name="iterations"/> is in stage 2 (calibrated).</summary>
    public bool CalibratesAt(int iteration, int iterations) => iteration >= (int)Math.Round(StageOneFraction * iterations);
}

/// <summary>
/// Attention over raters' prototypes of one class, with weights shared by fg and bg: Q = P W_q, K = Δ W_k, V = P,
/// where P stacks every rater's prototypes and Δ = P − p⁽⁰⁾ their deviations from the consensus prototype. Keys
/// carry only how a prototype departs from the consensus, so attention mixes raters by their style. The joint
/// forms attend over all of P (<see cref="Calibrate"/>); the rater form only over the versions of the same
/// prototype (<see cref="CalibrateAcrossRaters"/>).
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
        if (form == JapcForm.RaterAttention) Wo = RegisterParameter("w_o", Tensor.Zeros([channels, channels], dtype, accelerator));
    }

    public JapcForm Form { get; }

    public Variable Wq { get; }

    public Variable Wk { get; }

    /// <summary>The residual gate; null in the <see cref="JapcForm.Attention"/> form.</summary>
    public Variable? Gamma { get; }

    /// <summary>The output projection of the rater form, zero at initialisation; null in the joint forms.</summary>
    public Variable? Wo { get; }

    /// <summary>
    /// Calibrated prototypes of one class, one [m_r, D] per rater, from each rater's [m_r, D], the consensus [1, D]
    /// and each row's slot (which prototype it is: a local cell index, or −1 for the global prototype).
    /// </summary>
    public IReadOnlyList<Variable> Forward(IReadOnlyList<Variable> raterPrototypes, Variable consensus, IReadOnlyList<int[]> slots) =>
        Wo != null ? CalibrateAcrossRaters(raterPrototypes, consensus, slots, Wq, Wk, Wo) : Calibrate(raterPrototypes, consensus, Wq, Wk, Gamma);

    /// <summary>
    /// The rater form with explicit weights: A = softmax(Q Kᵀ/√D) restricted to rows of the same slot, P̃ = P + (A P) W_o.
    /// </summary>
    public static IReadOnlyList<Variable> CalibrateAcrossRaters(IReadOnlyList<Variable> raterPrototypes, Variable consensus, IReadOnlyList<int[]> slots,
        Variable wq, Variable wk, Variable wo)
    {
        var p = F.Concat(raterPrototypes, 0);
        var slot = slots.SelectMany(s => s).ToArray();
        int n = p.Shape[0], d = p.Shape[1];
        if (slot.Length != n) throw new ArgumentException($"japc: {slot.Length} slots for {n} prototypes");
        // Rows of other slots get −1e9 before the softmax: a weight of exactly 0 (every row has its own slot, so no row is all −1e9).
        var mask = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) mask[i * n + j] = slot[i] == slot[j] ? 0 : -1e9;
        var bias = new Variable(Tensor.FromArray(mask, [n, n], p.Data.Accelerator).To(p.DType));
        var scores = F.Add(F.MulScalar(F.MatMul(F.MatMul(p, wq), F.Transpose(F.MatMul(F.Sub(p, consensus), wk), 0, 1)), 1 / Math.Sqrt(d)), bias);
        var calibrated = F.Add(p, F.MatMul(F.MatMul(F.Softmax(scores, 1), p), wo));
        return Split(calibrated, raterPrototypes);
    }

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
        return Split(calibrated, raterPrototypes);
    }

    /// <summary>The rows of <paramref name="stacked"/> split back into one block per rater.</summary>
    private static IReadOnlyList<Variable> Split(Variable stacked, IReadOnlyList<Variable> raterPrototypes)
    {
        var result = new List<Variable>(raterPrototypes.Count);
        int start = 0;
        foreach (var rater in raterPrototypes)
        {
            result.Add(F.Narrow(stacked, 0, start, rater.Shape[0]));
            start += rater.Shape[0];
        }
        return result;
    }
}
