using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// The in-plane crop/pad of <c>image_normalize.ipynb</c> (its <c>image_crop</c> with <c>only_2d</c>): each slice
/// becomes size × size around the centre index n / 2 of each axis, padded where the slice is smaller.
/// </summary>
public static class CentreCrop
{
    /// <summary>
    /// The input index of output index 0 along an axis of length <paramref name="length"/>. The notebook builds
    /// a (size + 1)-wide patch whose middle, (size + 1) / 2, sits on the input's n / 2, then keeps the first
    /// size entries; so output j reads input j + n / 2 − (size + 1) / 2 (integer halves).
    /// </summary>
    public static int Offset(int length, int size) => length / 2 - (size + 1) / 2;

    public static Volume<T> CropOrPad<T>(Volume<T> volume, int size, T padValue) where T : unmanaged
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "size must be positive");
        int ox = Offset(volume.Width, size), oy = Offset(volume.Height, size);
        var data = new T[size * size * volume.Depth];
        Array.Fill(data, padValue);
        for (var z = 0; z < volume.Depth; z++)
            for (var y = 0; y < size; y++)
            {
                var sy = y + oy;
                if (sy < 0 || sy >= volume.Height) continue;
                for (var x = 0; x < size; x++)
                {
                    var sx = x + ox;
                    if (sx >= 0 && sx < volume.Width) data[x + size * (y + size * z)] = volume[sx, sy, z];
                }
            }
        return new Volume<T>(size, size, volume.Depth, data);
    }
}
