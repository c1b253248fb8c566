namespace IlgpuSeg.Data.Dataset;

/// <summary>Checks a data folder against the dataset descriptor it is used with; each problem is one line naming the file.</summary>
public static class DatasetCheck
{
    /// <summary>
    /// Before any scan is loaded: the fold has its scans (PROTOCOL §6.2's circular split: the queries, one support
    /// and, for training, at least one scan left to train on), the class map has exactly the descriptor's label
    /// names, and every evaluated class occurs in some scan.
    /// </summary>
    public static void Folder(DatasetInfo dataset, string directory, int scans, bool training)
    {
        int needed = dataset.QueriesPerFold + 1 + (training ? 1 : 0);
        if (scans < needed)
            throw new DataFormatException(directory, $"{scans} scans are too few for a fold of {dataset.Name}: it needs {needed} "
                + $"({dataset.QueriesPerFold} queries + 1 support{(training ? " + 1 to train" : "")})");
        var map = ClassMap.Read(directory, 1);
        var unknown = map.Slices.Keys.Where(k => !dataset.LabelNames.Contains(k)).Order(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
            throw new DataFormatException(map.Path, $"label {string.Join(", ", unknown)} is not in dataset {dataset.Name} (its labels: {string.Join(", ", dataset.LabelNames)})");
        var missing = dataset.LabelNames.Where(n => !map.Slices.ContainsKey(n)).ToArray();
        if (missing.Length > 0)
            throw new DataFormatException(map.Path, $"has no entry for label {string.Join(", ", missing)} of dataset {dataset.Name}");
        var absent = dataset.EvaluatedClasses.Where(c => map.Slices[dataset.NameOf(c)].Values.All(s => s.Length == 0)).ToArray();
        if (absent.Length > 0)
            throw new DataFormatException(map.Path, $"evaluated class {string.Join(", ", absent.Select(c => $"{c} ({dataset.NameOf(c)})"))} of dataset {dataset.Name} occurs in no scan");
    }

    /// <summary>After loading: no label volume holds a value the descriptor has no name for.</summary>
    public static void Labels(DatasetInfo dataset, ScanFolder folder)
    {
        foreach (var scan in folder.Scans)
        {
            int max = scan.Label.Data.Max();
            if (max >= dataset.LabelNames.Count)
                throw new DataFormatException(Path.Combine(folder.Directory, $"label_{scan.Pid}.nii.gz"),
                    $"label value {max} is not in dataset {dataset.Name} (labels 0..{dataset.LabelNames.Count - 1})");
        }
    }
}
