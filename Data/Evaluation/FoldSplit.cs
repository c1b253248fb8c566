namespace IlgpuSeg.Data.Evaluation;

/// <summary>One cross-validation fold: query scans, support scan(s) and the scans left for training.</summary>
public sealed record Fold(int Index, int[] QueryPids, int[] SupportPids, int[] TrainPids);

/// <summary>
/// SSL-ALPNet's fold split (PROTOCOL §6.2): pids sorted numerically and treated as a circular list; fold k takes
/// the scans at [q·k, q·k + q) as queries plus the next <c>supports</c> scans (wrapping around) as support;
/// training uses all the others. CHAOS: q = 4 (fold 0 = queries 1, 2, 3, 5, support 8); SABS: q = 6.
/// </summary>
public static class FoldSplit
{
    public static int FoldCount(int scans, int queriesPerFold) => scans / queriesPerFold;

    public static Fold Create(IReadOnlyCollection<int> pids, int fold, int queriesPerFold, int supports = 1)
    {
        var sorted = pids.Order().ToArray();
        if (sorted.Distinct().Count() != sorted.Length) throw new ArgumentException("patient ids must be distinct");
        if (queriesPerFold < 1 || supports < 1 || queriesPerFold + supports > sorted.Length)
            throw new ArgumentException($"{queriesPerFold} queries + {supports} support(s) do not fit in {sorted.Length} scans");
        var folds = FoldCount(sorted.Length, queriesPerFold);
        if (fold < 0 || fold >= folds)
            throw new ArgumentOutOfRangeException(nameof(fold), $"fold {fold} outside 0..{folds - 1} for {sorted.Length} scans and {queriesPerFold} queries per fold");
        var start = fold * queriesPerFold;
        int At(int i) => sorted[i % sorted.Length];
        var queries = Enumerable.Range(start, queriesPerFold).Select(At).ToArray();
        var support = Enumerable.Range(start + queriesPerFold, supports).Select(At).ToArray();
        var train = sorted.Except(queries).Except(support).ToArray();
        return new Fold(fold, queries, support, train);
    }
}
