using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// SABS <c>resampling_and_roi.ipynb</c> drops a fixed border in-plane (32 px of a 512 × 512 slice) before
/// resampling, to remove table and air around the body.
/// </summary>
public static class BorderCrop
{
    public static Volume<T> Crop<T>(Volume<T> volume, int border, string source) where T : unmanaged
    {
        if (border < 0) throw new ArgumentOutOfRangeException(nameof(border), "border must not be negative");
        int w = volume.Width - 2 * border, h = volume.Height - 2 * border;
        if (w < 1 || h < 1)
            throw new DataFormatException(source, $"slice of {volume.Width}x{volume.Height} is too small to crop {border} px from each border");
        var data = new T[w * h * volume.Depth];
        for (var z = 0; z < volume.Depth; z++)
            for (var y = 0; y < h; y++)
                volume.Data.AsSpan(border + volume.Width * (y + border + volume.Height * z), w).CopyTo(data.AsSpan(w * (y + h * z), w));
        return new Volume<T>(w, h, volume.Depth, data);
    }
}
