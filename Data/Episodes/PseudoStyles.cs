using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Episodes;

/// <summary>The random pseudo-rater styles of JAPC training (METHODS §4, PROTOCOL §8, <c>mild_aug=False</c>).</summary>
public sealed record PseudoStyleOptions
{
    /// <summary>Probability of a single operation; otherwise a sequence of two (without blur).</summary>
    public double SingleOperationProbability { get; init; } = 0.6;

    /// <summary>Elliptical kernel radii k (kernel 2k+1) for erosion, dilation, opening, closing.</summary>
    public int[] KernelRadii { get; init; } = [1, 2, 3];

    public int[] PruneMinSizes { get; init; } = [5, 10, 20, 50];
    public int[] SequencePruneMinSizes { get; init; } = [5, 10, 20];

    public int[] ShiftRadii { get; init; } = [1, 2, 3];
    public int[] ShiftIterations { get; init; } = [1, 2];
    public int[] SequenceShiftRadii { get; init; } = [1, 2];

    public double BlurSigmaMin { get; init; } = 0.5;
    public double BlurSigmaMax { get; init; } = 2.0;

    /// <summary>
    /// METHODS §6: the same mixture with operations of one to two feature cells (<paramref name="cell"/> slice pixels):
    /// kernels and shifts of 1–2 cells, prune sizes of ¼–2 cell areas, blur σ of ½–1 cell.
    /// </summary>
    public static PseudoStyleOptions FeatureScale(int cell) => new()
    {
        KernelRadii = [cell, 2 * cell],
        PruneMinSizes = [cell * cell / 4, cell * cell / 2, cell * cell, 2 * cell * cell],
        SequencePruneMinSizes = [cell * cell / 4, cell * cell / 2, cell * cell],
        ShiftRadii = [cell],
        ShiftIterations = [1, 2],
        SequenceShiftRadii = [cell],
        BlurSigmaMin = cell / 2.0,
        BlurSigmaMax = cell,
    };
}

/// <summary>Draws one fresh style per pseudo-rater and episode.</summary>
public static class PseudoStyles
{
    private static readonly MaskOperationKind[] SingleKinds = Enum.GetValues<MaskOperationKind>();
    private static readonly MaskOperationKind[] SequenceKinds = SingleKinds.Where(k => k != MaskOperationKind.GaussianBlur).ToArray();

    public static RaterStyle Draw(Generator generator, PseudoStyleOptions options)
    {
        if (generator.NextDouble() < options.SingleOperationProbability)
            return new RaterStyle(DrawOperation(generator, options, SingleKinds[generator.NextInt(SingleKinds.Length)], inSequence: false));
        var first = DrawOperation(generator, options, SequenceKinds[generator.NextInt(SequenceKinds.Length)], inSequence: true);
        var second = DrawOperation(generator, options, SequenceKinds[generator.NextInt(SequenceKinds.Length)], inSequence: true);
        return new RaterStyle(first, second);
    }

    private static MaskOperation DrawOperation(Generator g, PseudoStyleOptions o, MaskOperationKind kind, bool inSequence) => kind switch
    {
        MaskOperationKind.Erosion or MaskOperationKind.Dilation or MaskOperationKind.Opening or MaskOperationKind.Closing =>
            new MaskOperation(kind, Pick(g, o.KernelRadii)),
        MaskOperationKind.FillHoles => MaskOperation.FillHoles(),
        MaskOperationKind.ComponentPrune => MaskOperation.ComponentPrune(Pick(g, inSequence ? o.SequencePruneMinSizes : o.PruneMinSizes)),
        MaskOperationKind.BoundaryShift => inSequence
            ? MaskOperation.BoundaryShift(Pick(g, o.SequenceShiftRadii), (Direction)g.NextInt(4))
            : MaskOperation.BoundaryShift(Pick(g, o.ShiftRadii), (Direction)g.NextInt(4), Pick(g, o.ShiftIterations)),
        MaskOperationKind.GaussianBlur => MaskOperation.GaussianBlur(o.BlurSigmaMin + (o.BlurSigmaMax - o.BlurSigmaMin) * g.NextDouble()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static int Pick(Generator g, int[] choices) => choices[g.NextInt(choices.Length)];
}
