namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// What the protocol needs to know about a dataset (SSL-ALPNet's <c>DATASET_INFO</c>): label names as in its
/// class map (index = label value; index 0 is the background entry, which lists slices with any foreground and
/// so is never used to exclude slices), the evaluated classes, the two label groups of §6.1 and the fold size.
/// </summary>
public sealed record DatasetInfo(
    string Name,
    IReadOnlyList<string> LabelNames,
    IReadOnlyList<int> EvaluatedClasses,
    IReadOnlyList<IReadOnlyList<int>> LabelGroups,
    int QueriesPerFold)
{
    /// <summary>CHAOS T2-SPIR: 1 liver, 2 right kidney, 3 left kidney, 4 spleen; 4 query scans per fold.</summary>
    public static DatasetInfo Chaos { get; } = new("CHAOST2", ["BG", "LIVER", "RK", "LK", "SPLEEN"], [1, 2, 3, 4], [[1, 4], [2, 3]], 4);

    /// <summary>Synapse/BTCV CT: evaluated 1 spleen, 2 right kidney, 3 left kidney, 6 liver; 6 query scans per fold. Names as the reference spells them.</summary>
    public static DatasetInfo Sabs { get; } = new("SABS",
        ["BGD", "SPLEEN", "KID_R", "KID_l", "GALLBLADDER", "ESOPHAGUS", "LIVER", "STOMACH", "AORTA", "IVC", "PS_VEIN", "PANCREAS", "AG_R", "AG_L"],
        [1, 2, 3, 6], [[1, 6], [2, 3]], 6);

    /// <summary>The class-map name of a foreground label value (1 and up).</summary>
    public string NameOf(int labelValue)
    {
        if (labelValue < 1 || labelValue >= LabelNames.Count)
            throw new ArgumentOutOfRangeException(nameof(labelValue), $"{Name} has foreground labels 1..{LabelNames.Count - 1}, not {labelValue}");
        return LabelNames[labelValue];
    }

    /// <summary>Test classes for a label set: the evaluated classes minus group <paramref name="labelSet"/> (0 tests the kidneys, 1 liver and spleen).</summary>
    public int[] TestClasses(int labelSet) => EvaluatedClasses.Except(LabelGroups[labelSet]).Order().ToArray();

    /// <summary>Classes whose slices training must drop: none in Setting 1, the test classes in Setting 2.</summary>
    public int[] ExcludedClasses(Setting setting, int labelSet) => setting == Setting.Two ? TestClasses(labelSet) : [];
}

/// <summary>Setting 1 (Roy et al.): test organs may appear unlabelled in training slices. Setting 2 (Ouyang): slices with any test organ are dropped.</summary>
public enum Setting
{
    One = 1,
    Two = 2,
}
