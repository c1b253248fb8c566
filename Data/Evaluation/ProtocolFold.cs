using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Evaluation;

/// <summary>
/// Everything one training + evaluation run of the protocol needs to know up front: the fold's scans, the classes
/// it tests (label set of §6.1) and the classes its training must exclude (Setting 2) or not (Setting 1).
/// </summary>
public sealed record ProtocolFold(DatasetInfo Dataset, Fold Fold, int LabelSet, Setting Setting, int[] TestClasses, int[] ExcludedClasses)
{
    public static ProtocolFold Create(DatasetInfo dataset, IReadOnlyCollection<int> pids, int fold, int labelSet, Setting setting) =>
        new(dataset, FoldSplit.Create(pids, fold, dataset.QueriesPerFold), labelSet, setting,
            dataset.TestClasses(labelSet), dataset.ExcludedClasses(setting, labelSet));
}
