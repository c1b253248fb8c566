namespace IlgpuSeg.Data.Augmentation;

/// <summary>
/// Bilinear sampling of a slice extended by half-sample symmetric reflection (d c b a | a b c d | d c b a),
/// which is what <c>scipy.ndimage.map_coordinates(order=1, mode='reflect')</c> computes.
/// </summary>
public static class ReflectSampler
{
    public static double Sample(ReadOnlySpan<float> source, int height, int width, double y, double x)
    {
        var y0 = (int)Math.Floor(y);
        var x0 = (int)Math.Floor(x);
        double ty = y - y0, tx = x - x0;
        int ya = Reflect(y0, height), yb = Reflect(y0 + 1, height), xa = Reflect(x0, width), xb = Reflect(x0 + 1, width);
        return (1 - ty) * ((1 - tx) * source[ya * width + xa] + tx * source[ya * width + xb])
             + ty * ((1 - tx) * source[yb * width + xa] + tx * source[yb * width + xb]);
    }

    /// <summary>Index into [0, n) mirrored about the outer pixel edges (the edge pixel is repeated).</summary>
    public static int Reflect(int i, int n)
    {
        var period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }
}
