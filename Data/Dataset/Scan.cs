namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// One scan of an SSL-ALPNet data folder: the z-scored image, its ground-truth label map and, when the folder
/// has one, the superpixel pseudo-label volume (0 = none, 1..N = superpixel ids). All share one grid.
/// </summary>
public sealed record Scan(int Pid, Volume<float> Image, Volume<int> Label, Volume<int>? Superpixels)
{
    public int Depth => Image.Depth;

    /// <summary>Slice indices where the label map has at least <paramref name="minVoxels"/> voxels of <paramref name="labelValue"/>, ascending.</summary>
    public int[] SlicesWith(int labelValue, int minVoxels = 1)
    {
        var slices = new List<int>();
        for (var z = 0; z < Label.Depth; z++)
        {
            var count = 0;
            foreach (var v in Label.SliceSpan(z))
                if (v == labelValue) count++;
            if (count >= minVoxels) slices.Add(z);
        }
        return [.. slices];
    }
}
