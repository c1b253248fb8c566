using System.Text.Json;

namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// Writes <c>classmap_&lt;n&gt;.json</c> in the layout the reference notebooks produce: for each label name, for
/// each pid, the slices with at least n voxels of that label. Like the shipped CHAOS maps, the entry of label 0
/// (named e.g. "BG") lists the slices holding any foreground, not those holding background.
/// </summary>
public static class ClassMapWriter
{
    /// <param name="labelNames">Name of label value i at index i; index 0 is the background entry.</param>
    public static string Write(string directory, IReadOnlyList<string> labelNames, IEnumerable<(int Pid, Volume<int> Label)> scans, int minVoxels = 1)
    {
        var map = labelNames.ToDictionary(n => n, _ => new Dictionary<string, int[]>());
        foreach (var (pid, label) in scans)
        {
            for (var value = 0; value < labelNames.Count; value++)
            {
                var slices = new List<int>();
                for (var z = 0; z < label.Depth; z++)
                {
                    var count = 0;
                    foreach (var v in label.SliceSpan(z))
                        if (value == 0 ? v != 0 : v == value) count++;
                    if (count >= minVoxels) slices.Add(z);
                }
                map[labelNames[value]][pid.ToString()] = [.. slices];
            }
        }
        var path = Path.Combine(directory, $"classmap_{minVoxels}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(map));
        return path;
    }
}
