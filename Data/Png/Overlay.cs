using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Png;

/// <summary>A grey slice with a prediction (red fill) and ground truth (green outline) drawn on it.</summary>
public static class Overlay
{
    public static byte[] Render(Slice2D<float> image, Slice2D<byte>? prediction, Slice2D<byte>? truth)
    {
        int h = image.Height, w = image.Width;
        float min = image.Data.Min(), max = image.Data.Max();
        float scale = max > min ? 255f / (max - min) : 0;
        var rgb = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                double g = (image.Data[i] - min) * scale, r = g, b = g;
                if (prediction != null && prediction.Data[i] != 0) (r, g, b) = (0.5 * r + 127, 0.5 * g, 0.5 * b);
                if (truth != null && truth.Data[i] != 0 && IsEdge(truth, y, x)) (r, g, b) = (0, 255, 0);
                rgb[3 * i] = (byte)Math.Clamp(r, 0, 255);
                rgb[3 * i + 1] = (byte)Math.Clamp(g, 0, 255);
                rgb[3 * i + 2] = (byte)Math.Clamp(b, 0, 255);
            }
        return rgb;
    }

    private static bool IsEdge(Slice2D<byte> mask, int y, int x) =>
        y == 0 || x == 0 || y == mask.Height - 1 || x == mask.Width - 1
        || mask[y - 1, x] == 0 || mask[y + 1, x] == 0 || mask[y, x - 1] == 0 || mask[y, x + 1] == 0;
}
