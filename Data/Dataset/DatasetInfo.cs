using System.Globalization;
using System.Text.Json.Serialization;
using IlgpuSeg.Data.Preprocessing;

namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// What the protocol needs to know about a dataset (SSL-ALPNet's <c>DATASET_INFO</c>): label names as in its
/// class map (index = label value; index 0 is the background entry, which lists slices with any foreground and
/// so is never used to exclude slices), the evaluated classes, the two label groups of §6.1, the fold size and
/// the modality (which picks the CT or MR superpixel settings). Built in: CHAOS-T2 and SABS; any other dataset is
/// a <see cref="DatasetDescriptor"/> JSON file, whose field names are the JSON names below.
/// </summary>
public sealed record DatasetInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("labels")] IReadOnlyList<string> LabelNames,
    [property: JsonPropertyName("evaluated_classes")] IReadOnlyList<int> EvaluatedClasses,
    [property: JsonPropertyName("label_groups")] IReadOnlyList<IReadOnlyList<int>> LabelGroups,
    [property: JsonPropertyName("queries_per_fold")] int QueriesPerFold,
    [property: JsonPropertyName("modality")] Modality Modality)
{
    /// <summary>CHAOS T2-SPIR: 1 liver, 2 right kidney, 3 left kidney, 4 spleen; 4 query scans per fold.</summary>
    public static DatasetInfo Chaos { get; } = new("CHAOST2", ["BG", "LIVER", "RK", "LK", "SPLEEN"], [1, 2, 3, 4], [[1, 4], [2, 3]], 4, Modality.Mr);

    /// <summary>Synapse/BTCV CT: evaluated 1 spleen, 2 right kidney, 3 left kidney, 6 liver; 6 query scans per fold. Names as the reference spells them.</summary>
    public static DatasetInfo Sabs { get; } = new("SABS",
        ["BGD", "SPLEEN", "KID_R", "KID_l", "GALLBLADDER", "ESOPHAGUS", "LIVER", "STOMACH", "AORTA", "IVC", "PS_VEIN", "PANCREAS", "AG_R", "AG_L"],
        [1, 2, 3, 6], [[1, 6], [2, 3]], 6, Modality.Ct);

    /// <summary>The class-map name of a foreground label value (1 and up).</summary>
    public string NameOf(int labelValue)
    {
        if (labelValue < 1 || labelValue >= LabelNames.Count)
            throw new ArgumentOutOfRangeException(nameof(labelValue), $"{Name} has foreground labels 1..{LabelNames.Count - 1}, not {labelValue}");
        return LabelNames[labelValue];
    }

    /// <summary>A foreground label value from its number or its name (case-insensitive), e.g. "2" or "RK".</summary>
    public int ClassOf(string numberOrName)
    {
        var key = numberOrName.Trim();
        int value = int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : Enumerable.Range(1, LabelNames.Count - 1).FirstOrDefault(i => string.Equals(LabelNames[i], key, StringComparison.OrdinalIgnoreCase));
        if (value < 1 || value >= LabelNames.Count)
            throw new ArgumentException($"class {key} does not exist in {Name} ({string.Join(", ", Enumerable.Range(1, LabelNames.Count - 1).Select(i => $"{i} {LabelNames[i]}"))})");
        return value;
    }

    /// <summary>
    /// The label set whose test classes are <paramref name="testClasses"/> (comma-separated numbers or names, e.g.
    /// "2,3" or "RK,LK"); null or empty means label set 0 (the kidneys for CHAOS and SABS).
    /// </summary>
    public int LabelSetOf(string? testClasses)
    {
        if (string.IsNullOrWhiteSpace(testClasses)) return 0;
        var set = testClasses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ClassOf).Order().ToArray();
        for (int labelSet = 0; labelSet < LabelGroups.Count; labelSet++)
            if (TestClasses(labelSet).SequenceEqual(set)) return labelSet;
        var groups = Enumerable.Range(0, LabelGroups.Count).Select(TestClasses).Where(g => g.Length > 0)
            .Select(g => $"{string.Join(",", g)} = {string.Join(",", g.Select(NameOf))}");
        throw new ArgumentException($"{testClasses} is not a test group of {Name} (use {string.Join(" or ", groups)})");
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
