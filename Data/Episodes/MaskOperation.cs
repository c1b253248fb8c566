using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Episodes;

public enum MaskOperationKind
{
    Erosion,
    Dilation,
    Opening,
    Closing,
    FillHoles,
    ComponentPrune,
    BoundaryShift,
    GaussianBlur,
}

/// <summary>
/// One rater-style operation on a binary mask (METHODS §4). Morphology uses the elliptical (2K+1)² kernel;
/// BoundaryShift moves the boundary K px toward <see cref="Side"/> per iteration; ComponentPrune drops components
/// under <see cref="MinSize"/> px; GaussianBlur blurs with <see cref="Sigma"/> and thresholds at 0.5.
/// </summary>
public sealed record MaskOperation(MaskOperationKind Kind, int K = 1, Direction Side = Direction.Right, int Iterations = 1, int MinSize = 0, double Sigma = 0)
{
    public static MaskOperation Erosion(int k) => new(MaskOperationKind.Erosion, k);
    public static MaskOperation Dilation(int k) => new(MaskOperationKind.Dilation, k);
    public static MaskOperation Opening(int k) => new(MaskOperationKind.Opening, k);
    public static MaskOperation Closing(int k) => new(MaskOperationKind.Closing, k);
    public static MaskOperation FillHoles() => new(MaskOperationKind.FillHoles);
    public static MaskOperation ComponentPrune(int minSize) => new(MaskOperationKind.ComponentPrune, MinSize: minSize);
    public static MaskOperation BoundaryShift(int k, Direction side, int iterations = 1) => new(MaskOperationKind.BoundaryShift, k, side, iterations);
    public static MaskOperation GaussianBlur(double sigma) => new(MaskOperationKind.GaussianBlur, Sigma: sigma);

    public Slice2D<byte> Apply(Slice2D<byte> mask) => Kind switch
    {
        MaskOperationKind.Erosion => Morphology.Erode(mask, Morphology.Ellipse(K)),
        MaskOperationKind.Dilation => Morphology.Dilate(mask, Morphology.Ellipse(K)),
        MaskOperationKind.Opening => Morphology.Open(mask, Morphology.Ellipse(K)),
        MaskOperationKind.Closing => Morphology.Close(mask, Morphology.Ellipse(K)),
        MaskOperationKind.FillHoles => Morphology.FillHoles(mask),
        MaskOperationKind.ComponentPrune => Morphology.PruneComponents(mask, MinSize),
        MaskOperationKind.BoundaryShift => Morphology.ShiftBoundary(mask, K, Side, Iterations),
        MaskOperationKind.GaussianBlur => Morphology.BlurThreshold(mask, Sigma),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };
}

/// <summary>
/// A rater's style: operations applied in order. An operation that would empty a non-empty mask is undone
/// (METHODS §4), so a style never erases a structure; an empty mask stays empty.
/// </summary>
public sealed record RaterStyle(IReadOnlyList<MaskOperation> Operations)
{
    public static RaterStyle Identity { get; } = new([]);

    public RaterStyle(params MaskOperation[] operations) : this((IReadOnlyList<MaskOperation>)operations) { }

    public Slice2D<byte> Apply(Slice2D<byte> mask)
    {
        var current = mask;
        foreach (var operation in Operations)
        {
            var next = operation.Apply(current);
            if (Morphology.Count(next) > 0 || Morphology.Count(current) == 0) current = next;
        }
        return current == mask ? mask.Clone() : current;
    }

    public override string ToString() => Operations.Count == 0 ? "identity" : string.Join(" then ", Operations);
}
