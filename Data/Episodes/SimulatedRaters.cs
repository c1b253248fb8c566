namespace IlgpuSeg.Data.Episodes;

/// <summary>
/// Fixed, systematic rater styles applied to real labels, because no multi-rater data is available here
/// (METHODS §4). Results obtained with them are to be reported as "simulated raters".
/// </summary>
public static class SimulatedRaters
{
    /// <summary>METHODS' three simulated raters: dilate 1 px, erode 1 px (3 × 3 cross), boundary shifted 2 px right.</summary>
    public static IReadOnlyList<RaterStyle> Default { get; } =
    [
        new RaterStyle(MaskOperation.Dilation(1)),
        new RaterStyle(MaskOperation.Erosion(1)),
        new RaterStyle(MaskOperation.BoundaryShift(2, Direction.Right)),
    ];

    /// <summary>One rater, the label itself.</summary>
    public static IReadOnlyList<RaterStyle> Single { get; } = [RaterStyle.Identity];
}
