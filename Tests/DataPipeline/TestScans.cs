using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Tests.DataPipeline;

/// <summary>Small scans and folders built in the tests.</summary>
public static class TestScans
{
    public static string TestDataDir => Path.Combine(Support.Prerequisites.RepoRoot, "Tests", "TestData");

    /// <summary>A fresh empty folder under the temp directory, deleted when disposed.</summary>
    public sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ilgpuseg-" + Guid.NewGuid().ToString("N"));
        public TempFolder() => Directory.CreateDirectory(Path);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>Superpixels as a grid of square blocks inside the label's foreground rows: ids 1..N per slice.</summary>
    public static Volume<int> GridSuperpixels(Volume<int> label, int block)
    {
        var data = new int[label.Data.Length];
        for (var z = 0; z < label.Depth; z++)
        {
            var ids = new Dictionary<(int, int), int>();
            for (var y = 0; y < label.Height; y++)
                for (var x = 0; x < label.Width; x++)
                {
                    if (label[x, y, z] == 0) continue;
                    var key = (y / block, x / block);
                    if (!ids.TryGetValue(key, out var id)) ids[key] = id = ids.Count + 1;
                    data[x + label.Width * (y + label.Height * z)] = id;
                }
        }
        return new Volume<int>(label.Width, label.Height, label.Depth, data);
    }

    /// <summary>A test oracle: finds the query slice equal to the given image and returns its class mask as probabilities.</summary>
    public static Slice2D<float> Truth(IReadOnlyList<Scan> queries, Slice2D<float> queryImage, int cls)
    {
        foreach (var scan in queries)
            for (var z = 0; z < scan.Depth; z++)
                if (scan.Image.SliceSpan(z).SequenceEqual(queryImage.Data))
                    return new Slice2D<float>(queryImage.Height, queryImage.Width,
                        Array.ConvertAll(scan.Label.Slice(z).Data, v => v == cls ? 1f : 0f));
        throw new InvalidOperationException("query image not found");
    }
}
