using System.Text.Json;
using IlgpuSeg.Data.Preprocessing;

namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// A dataset descriptor file: a <see cref="DatasetInfo"/> as JSON (<c>dataset.json</c> beside the data, which
/// <c>prepare</c> writes), and how a command picks its dataset: "chaos", "sabs", a descriptor path, or, when none
/// is given, the data folder's <c>dataset.json</c>, else the built-in set whose label names its class map has.
/// </summary>
public static class DatasetDescriptor
{
    public const string FileName = "dataset.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>The dataset and a short note on where it came from (for the line the commands print).</summary>
    public static (DatasetInfo Dataset, string Source) Resolve(string? choice, string dataDirectory) => choice?.ToLowerInvariant() switch
    {
        null => Detect(dataDirectory),
        "chaos" => (DatasetInfo.Chaos, "built in (--dataset chaos)"),
        "sabs" => (DatasetInfo.Sabs, "built in (--dataset sabs)"),
        _ => (Read(choice), $"from {choice}"),
    };

    private static (DatasetInfo, string) Detect(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        if (File.Exists(file)) return (Read(file), $"from {file}");
        var names = ClassMap.Read(dataDirectory, 1).Slices.Keys.Order(StringComparer.Ordinal).ToArray();
        foreach (var builtIn in new[] { DatasetInfo.Chaos, DatasetInfo.Sabs })
            if (builtIn.LabelNames.Order(StringComparer.Ordinal).SequenceEqual(names))
                return (builtIn, $"built in, detected from the class map labels of {dataDirectory}");
        throw new DataFormatException(dataDirectory, $"cannot tell which dataset this is: no {FileName}, and its class map labels ({string.Join(", ", names)}) "
            + "are neither CHAOS's nor SABS's; pass --dataset chaos|sabs|PATH");
    }

    /// <summary>Reads and checks a descriptor; any problem is one <see cref="DataFormatException"/> naming the file.</summary>
    public static DatasetInfo Read(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "dataset descriptor not found (use chaos, sabs or the path of a descriptor JSON file)");
        DatasetInfo? dataset;
        try
        {
            dataset = JsonSerializer.Deserialize<DatasetInfo>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not a dataset descriptor ({{\"name\", \"modality\", \"labels\", \"evaluated_classes\", \"label_groups\", \"queries_per_fold\"}}): {e.Message}");
        }
        if (dataset == null) throw new DataFormatException(path, "dataset descriptor is empty (null)");
        if (Problem(dataset) is { } problem) throw new DataFormatException(path, problem);
        return dataset;
    }

    /// <summary>Writes a descriptor to a temporary name and renames it, so an existing one is never half overwritten.</summary>
    public static string Write(string directory, DatasetInfo dataset)
    {
        var path = Path.Combine(directory, FileName);
        var temp = Path.Combine(directory, $".{FileName}.{Guid.NewGuid():N}.partial");
        File.WriteAllText(temp, JsonSerializer.Serialize(dataset, Json));
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>
    /// The descriptor <c>prepare</c> writes for a folder of <paramref name="scans"/> scans. Evaluated classes and label
    /// groups: those of the built-in set with the same label names, otherwise every foreground label evaluated and
    /// the groups its first and second half. Folds: five, as PROTOCOL §6.2 (⌊scans / 5⌋ queries, at least 1), which
    /// gives CHAOS's 4 and SABS's 6 for their 20 and 30 scans.
    /// </summary>
    public static DatasetInfo ForPrepared(string name, Modality modality, IReadOnlyList<string> labelNames, int scans)
    {
        var builtIn = new[] { DatasetInfo.Chaos, DatasetInfo.Sabs }.FirstOrDefault(d => d.LabelNames.SequenceEqual(labelNames));
        int[] evaluated = builtIn?.EvaluatedClasses.ToArray() ?? Enumerable.Range(1, labelNames.Count - 1).ToArray();
        IReadOnlyList<IReadOnlyList<int>> groups = builtIn?.LabelGroups ?? [evaluated[..(evaluated.Length / 2)], evaluated[(evaluated.Length / 2)..]];
        return new DatasetInfo(name, labelNames.ToArray(), evaluated, groups, Math.Max(1, scans / 5), modality);
    }

    /// <summary>What is wrong with a descriptor on its own, or null.</summary>
    private static string? Problem(DatasetInfo d)
    {
        if (string.IsNullOrWhiteSpace(d.Name)) return "\"name\" is empty";
        if (d.LabelNames.Count < 2) return "\"labels\" needs the background name and at least one class name";
        if (d.LabelNames.Distinct(StringComparer.OrdinalIgnoreCase).Count() != d.LabelNames.Count) return $"\"labels\" names a class twice ({string.Join(", ", d.LabelNames)})";
        var outside = d.EvaluatedClasses.FirstOrDefault(c => c < 1 || c >= d.LabelNames.Count, -1);
        if (outside != -1) return $"evaluated class {outside} is not a foreground label (1..{d.LabelNames.Count - 1})";
        if (d.EvaluatedClasses.Count == 0 || d.EvaluatedClasses.Distinct().Count() != d.EvaluatedClasses.Count) return "\"evaluated_classes\" must list distinct classes";
        if (d.LabelGroups.Count != 2) return $"\"label_groups\" must hold two groups (the training sides of label sets 0 and 1), not {d.LabelGroups.Count}";
        var stray = d.LabelGroups.SelectMany(g => g).FirstOrDefault(c => !d.EvaluatedClasses.Contains(c), -1);
        if (stray != -1) return $"label group class {stray} is not an evaluated class";
        if (d.TestClasses(0).Length == 0) return "label group 0 holds every evaluated class, so label set 0 has nothing to test";
        if (d.QueriesPerFold < 1) return $"\"queries_per_fold\" is {d.QueriesPerFold}; it must be at least 1";
        return null;
    }
}
