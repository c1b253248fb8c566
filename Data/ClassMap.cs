using System.Text.Json;

namespace IlgpuSeg.Data;

/// <summary>
/// A <c>classmap_&lt;n&gt;.json</c>: for each label name, for each patient id, the slice indices (last axis)
/// where that label covers at least n voxels. File format: {label_name: {pid: [slice indices]}}.
/// </summary>
public sealed class ClassMap
{
    private ClassMap(string path, Dictionary<string, IReadOnlyDictionary<int, int[]>> slices)
    {
        Path = path;
        Slices = slices;
    }

    public string Path { get; }

    /// <summary>Label name → patient id → slice indices.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<int, int[]>> Slices { get; }

    /// <summary>The slices of one label in one scan; empty when the scan has none.</summary>
    public int[] SlicesOf(string label, int pid) =>
        Slices.TryGetValue(label, out var byPid) && byPid.TryGetValue(pid, out var s) ? s : [];

    /// <summary>Reads <c>classmap_&lt;minVoxels&gt;.json</c> from a data directory.</summary>
    public static ClassMap Read(string directory, int minVoxels)
    {
        var path = System.IO.Path.Combine(directory, $"classmap_{minVoxels}.json");
        if (!File.Exists(path))
            throw new DataFormatException(path, $"class map not found (expected classmap_{minVoxels}.json in {directory})");
        Dictionary<string, Dictionary<string, int[]>>? raw;
        try
        {
            raw = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, int[]>>>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not a class map ({{label: {{pid: [slices]}}}}): {e.Message}", e);
        }
        if (raw == null)
            throw new DataFormatException(path, "class map is empty (null)");

        var slices = new Dictionary<string, IReadOnlyDictionary<int, int[]>>();
        foreach (var (label, byPid) in raw)
        {
            var forLabel = new Dictionary<int, int[]>();
            foreach (var (pid, indices) in byPid ?? [])
            {
                if (!int.TryParse(pid, out var id) || indices == null)
                    throw new DataFormatException(path, $"label '{label}', patient id '{pid}': expected an integer id and a list of slice indices");
                forLabel[id] = indices;
            }
            slices[label] = forLabel;
        }
        return new ClassMap(path, slices);
    }
}
