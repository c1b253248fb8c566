namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// The MR histogram cut of SSL-ALPNet's <c>image_normalize.ipynb</c>: values above the 99.5th percentile of the
/// whole volume are set to it, so a few very bright voxels do not dominate the later z-score.
/// </summary>
public static class PercentileClip
{
    /// <summary>
    /// <c>np.percentile(values, percent)</c> with NumPy's default ("linear") method: sort, take the virtual
    /// index (n − 1)·q and interpolate between its two neighbours.
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> values, double percent)
    {
        if (values.Length == 0) throw new ArgumentException("percentile of no values");
        if (percent is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(percent), $"{percent} is outside 0..100");
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var virtualIndex = (sorted.Length - 1) * (percent / 100.0);
        var below = (int)Math.Floor(virtualIndex);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return Lerp(sorted[below], sorted[above], virtualIndex - below);
    }

    /// <summary>
    /// Sets every value above the percentile to it. The notebook writes the threshold into the image's own
    /// array, so for an integer image NumPy truncates it toward zero; <paramref name="integerImage"/> does the same.
    /// </summary>
    public static double[] Clip(ReadOnlySpan<double> values, double percent, bool integerImage)
    {
        var threshold = Percentile(values, percent);
        var ceiling = integerImage ? Math.Truncate(threshold) : threshold;
        var result = values.ToArray();
        for (var i = 0; i < result.Length; i++)
            if (result[i] > threshold) result[i] = ceiling;
        return result;
    }

    // NumPy's _lerp: from the far end when t ≥ 0.5, so t = 1 gives exactly b.
    private static double Lerp(double a, double b, double t)
    {
        var diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
}
