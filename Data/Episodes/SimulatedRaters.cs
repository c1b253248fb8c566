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

    /// <summary>
    /// METHODS §6's raters, at the scale prototypes can tell apart: dilate one feature cell, erode one cell, boundary
    /// shifted one cell right; <paramref name="cell"/> is a feature cell in slice pixels (<see cref="FeatureCell.Pixels"/>).
    /// </summary>
    public static IReadOnlyList<RaterStyle> FeatureScale(int cell) =>
    [
        new RaterStyle(MaskOperation.Dilation(cell)),
        new RaterStyle(MaskOperation.Erosion(cell)),
        new RaterStyle(MaskOperation.BoundaryShift(cell, Direction.Right)),
    ];

    /// <summary>One rater, the label itself.</summary>
    public static IReadOnlyList<RaterStyle> Single { get; } = [RaterStyle.Identity];
}

/// <summary>The size of one encoder feature cell (output stride 8) in slice pixels, for slices resized to the input size.</summary>
public static class FeatureCell
{
    public const int OutputStride = 8;

    public static int Pixels(int sliceSize, int inputSize) => Math.Max(1, (int)Math.Round(OutputStride * (double)sliceSize / inputSize));
}
