namespace IlgpuSeg.Models;

/// <summary>Which prototypes DPL enhances (METHODS §3).</summary>
public enum DplTarget
{
    /// <summary>Every prototype vector the head builds: local and global, fg and bg (default).</summary>
    All,
    /// <summary>Only masked-average prototypes, the paper's p0. The ALPNet head has one: the fg global prototype.</summary>
    Global,
}

/// <summary>How the DPL segmenter's alignment loss is formed.</summary>
public enum DplAlignment
{
    /// <summary>METHODS eq. 15: mean over classes of ‖P_k^{support,enh} − P_k^{query,enh}‖² (default).</summary>
    Prototype,
    /// <summary>PANet's: segment the support with prototypes from the query's own prediction.</summary>
    Panet,
}

/// <summary>
/// DPL's constants with METHODS §3's defaults: T steps of a clipped cosine schedule with offset s, inference start
/// step t* with K averaged variants, embedding and hidden widths, the loss weight β, the condition scale of
/// α_t = scale·(1 − t/T), the initial fusion weights w_f, w_d, and the seed of inference noise.
/// UnitScale (the project's decision; the paper is silent on scale): each prototype is diffused at unit RMS and
/// scaled back, and eq. 15 compares unit-norm prototypes. DDPM assumes unit-scale data, and the head only uses
/// cosine similarity; without it, on CHAOS (256 unnormalised channels) L_align started near 1300 and L_diff near
/// 360 against a cross-entropy of 0.6, and training reached NaN at iteration 43.
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
    DplAlignment Alignment = DplAlignment.Prototype,
    ulong InferenceSeed = 0,
    bool UnitScale = true)
{
    public static DplConfig Default => new();
}
