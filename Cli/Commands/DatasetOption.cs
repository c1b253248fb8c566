using System.CommandLine;
using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Cli.Commands;

/// <summary>The <c>--dataset chaos|sabs|PATH</c> option of the commands that read a data folder, and the line saying which dataset they use.</summary>
public static class DatasetOption
{
    public static Option<string?> Create() => new("--dataset")
    {
        Description = $"chaos, sabs or a dataset descriptor JSON file (default: the data folder's {DatasetDescriptor.FileName}, else the built-in set its class map labels match)",
    };

    /// <summary>The dataset of <paramref name="dataDirectory"/>, printed with where it came from.</summary>
    public static DatasetInfo Resolve(string? choice, string dataDirectory, TextWriter output)
    {
        if (!Directory.Exists(dataDirectory)) throw new ArgumentException($"--data: folder '{dataDirectory}' does not exist");
        var (dataset, source) = DatasetDescriptor.Resolve(choice, dataDirectory);
        output.WriteLine($"dataset: {dataset.Name} ({dataset.Modality.ToString().ToLowerInvariant()}, classes {string.Join(", ", dataset.EvaluatedClasses.Select(c => $"{c} {dataset.NameOf(c)}"))}), {source}");
        return dataset;
    }
}
