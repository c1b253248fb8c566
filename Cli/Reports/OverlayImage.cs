using IlgpuSeg.Data.Dataset;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// Raster figures of slices (ImageSharp, used only to encode images we make): a grey slice with the prediction's
/// contour in red and the ground truth's in green, scaled up by whole pixels; montages of such panels side by side.
/// </summary>
public static class OverlayImage
{
    private static readonly Rgb24 Prediction = new(255, 40, 40), Truth = new(40, 230, 40), Gap = new(255, 255, 255);

    /// <summary>The slice windowed to its own min..max, contours drawn, then scaled up to at least <paramref name="minSize"/> pixels.</summary>
    public static Image<Rgb24> Render(Slice2D<float> image, Slice2D<byte>? prediction, Slice2D<byte>? truth, int minSize = 256)
    {
        int h = image.Height, w = image.Width;
        float min = image.Data.Min(), max = image.Data.Max();
        float scale = max > min ? 255f / (max - min) : 0;
        var result = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                byte g = (byte)Math.Clamp((image[y, x] - min) * scale, 0, 255);
                result[x, y] = truth != null && IsEdge(truth, y, x) ? Truth
                    : prediction != null && IsEdge(prediction, y, x) ? Prediction
                    : new Rgb24(g, g, g);
            }
        int factor = Math.Max(1, (int)Math.Ceiling(minSize / (double)Math.Max(h, w)));
        if (factor > 1) result.Mutate(m => m.Resize(w * factor, h * factor, KnownResamplers.NearestNeighbor));
        return result;
    }

    /// <summary>Panels of equal height left to right with a white gap between them.</summary>
    public static Image<Rgb24> SideBySide(IReadOnlyList<Image<Rgb24>> panels, int gap = 8)
    {
        int height = panels.Max(p => p.Height), width = panels.Sum(p => p.Width) + gap * (panels.Count - 1);
        var montage = new Image<Rgb24>(width, height, Gap);
        int left = 0;
        foreach (var panel in panels)
        {
            int x0 = left;
            montage.Mutate(m => m.DrawImage(panel, new Point(x0, 0), 1f));
            left += panel.Width + gap;
        }
        return montage;
    }

    public static byte[] Png(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder());
        return stream.ToArray();
    }

    /// <summary>A foreground pixel with a background 4-neighbour (or on the border).</summary>
    private static bool IsEdge(Slice2D<byte> mask, int y, int x) =>
        mask[y, x] != 0 && (y == 0 || x == 0 || y == mask.Height - 1 || x == mask.Width - 1
        || mask[y - 1, x] == 0 || mask[y + 1, x] == 0 || mask[y, x - 1] == 0 || mask[y, x + 1] == 0);
}
