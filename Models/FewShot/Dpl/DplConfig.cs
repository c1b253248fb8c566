namespace IlgpuSeg.Models;

/// <summary>Which prototypes DPL enhances (METHODS §3).</summary>
public enum DplTarget
{
    /// <summary>Every prototype vector the head builds: local and global, fg and bg (default).</summary>
    All,
    /// <summary>Only masked-average prototypes, the paper's p0. The ALPNet head has one: the fg global prototype.</summary>
    Global,
}

/// <summary>How the spatial condition c steers the noise predictor (METHODS §6: the denoiser must learn).</summary>
public enum DplInjection
{
    /// <summary>c is an input of ε_θ: ε̂ = ε_θ([p_t; emb(t); c]), so the predictor sees p0's condition and t together (default).</summary>
    Input,
    /// <summary>The first form (eq. 10): ε̂ = ε_θ([p_t; emb(t)]) + α_t·c, with c blind to t and α_t ≤ 0.1.</summary>
    Additive,
}

/// <summary>Which terms form the DPL segmenter's loss (METHODS §3 and §6).</summary>
public enum DplLoss
{
    /// <summary>The baseline's loss plus DPL's: weighted CE + PANet alignment + λ·eq. 15 + β·L_diff (METHODS §6, default).</summary>
    Added,
    /// <summary>The first form: weighted CE + eq. 15 + β·L_diff (eq. 15 replaces PANet alignment).</summary>
    Replaced,
    /// <summary>Weighted CE + PANet alignment on enhanced prototypes + β·L_diff (no eq. 15).</summary>
    Panet,
    /// <summary>The paper's literal form: unweighted CE + eq. 15 + β·L_diff.</summary>
    Paper,
}

/// <summary>
/// DPL's constants with METHODS §3's defaults: T steps of a clipped cosine schedule with offset s, inference start
/// step t* with K averaged variants, embedding and hidden widths, the loss weight β, the condition scale of
/// α_t = scale·(1 − t/T), the initial fusion weights w_f, w_d, and the seed of inference noise.
/// UnitScale (the project's decision; the paper is silent on scale): each prototype is diffused at unit RMS and
/// scaled back, and eq. 15 compares unit-norm prototypes. DDPM assumes unit-scale data, and the head only uses
/// cosine similarity; without it, on CHAOS (256 unnormalised channels) L_align started near 1300 and L_diff near
/// 360 against a cross-entropy of 0.6, and training reached NaN at iteration 43.
/// METHODS §6 revisions, each with its first form selectable: <see cref="Loss"/> (eq. 15 weighted by
/// <see cref="EquationWeight"/> λ); SplitDiffusionGradient: L_diff trains the DPL modules at full weight while only
/// β·L_diff's gradient reaches the encoder (false: β·L_diff everywhere, so β also scales ε_θ's learning signal);
/// MatchedNoise: training enhances with t* and K variants as inference does and draws L_diff's t from U{1..t*}
/// (false: one t ~ U{1..T}, K = 1, L_diff at that t); RawStatistics: the geometric statistics of the condition are
/// taken on the raw p0 (false: on the unit-RMS copy, where two of the four are functions of the mean); <see cref="Injection"/>:
/// c is an input of ε_θ (first form: added as α_t·c, blind to t and at most 0.1 of it).
/// </summary>
public sealed record DplConfig(
    int Steps = 20,
    double CosineOffset = 0.008,
    double BetaMin = 0.001,
    double BetaMax = 0.1,
    int InferenceStart = 10,
    int Variants = 4,
    int EmbeddingDim = 128,
    int Hidden = 512,
    double LossWeight = 0.02,
    double ConditionScale = 0.1,
    double FusionWeight = 0.8,
    double DiffusionWeight = 0.2,
    DplTarget Target = DplTarget.All,
    DplLoss Loss = DplLoss.Added,
    double EquationWeight = 1.0,
    bool SplitDiffusionGradient = true,
    bool MatchedNoise = true,
    bool RawStatistics = true,
    DplInjection Injection = DplInjection.Input,
    ulong InferenceSeed = 0,
    bool UnitScale = true)
{
    public static DplConfig Default => new();

    /// <summary>The forms before METHODS §6: eq. 15 in place of PANet alignment, β on all of L_diff, t ~ U{1..T} with K = 1, statistics of the unit-RMS p0.</summary>
    public static DplConfig First => new(Loss: DplLoss.Replaced, SplitDiffusionGradient: false, MatchedNoise: false, RawStatistics: false, Injection: DplInjection.Additive);
}
