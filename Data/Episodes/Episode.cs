using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Episodes;

/// <summary>Where an episode's foreground came from.</summary>
public enum EpisodeSource
{
    /// <summary>One superpixel of the pseudo-label volume (self-supervised).</summary>
    Superpixel,

    /// <summary>One class of the ground-truth label map.</summary>
    GroundTruth,
}

/// <summary>
/// A 1-way 1-shot episode. Masks are 0/1, one per rater (index 0 = the pseudo-label or label itself for
/// self-supervised episodes); support and query masks of rater r belong together.
/// </summary>
public sealed record Episode(
    Slice2D<float> SupportImage,
    IReadOnlyList<Slice2D<byte>> SupportMasks,
    Slice2D<float> QueryImage,
    IReadOnlyList<Slice2D<byte>> QueryMasks,
    EpisodeInfo Info)
{
    public int Raters => SupportMasks.Count;
}

/// <summary>Metadata: the scan and slice, and the superpixel id or class value that was binarised.</summary>
public sealed record EpisodeInfo(int Pid, int Slice, EpisodeSource Source, int LabelId, IReadOnlyList<RaterStyle> Styles);
