namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// The CT intensity step of SSL-ALPNet's SABS <c>intensity_normalization.ipynb</c>: clip Hounsfield units to a
/// soft-tissue window, then stretch the volume's own min..max to 0..255.
/// </summary>
public static class HuWindow
{
    public const double DefaultLow = -125;
    public const double DefaultHigh = 275;

    /// <param name="source">The file the values came from, named in the error for a constant volume.</param>
    public static double[] Normalize(ReadOnlySpan<double> hu, double low, double high, string source)
    {
        if (!(low < high)) throw new ArgumentException($"HU window [{low}, {high}] is empty");
        var result = new double[hu.Length];
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (var i = 0; i < result.Length; i++)
        {
            var v = Math.Clamp(hu[i], low, high);
            result[i] = v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (!(max > min))
            throw new DataFormatException(source, $"image is constant ({min}) inside the HU window [{low}, {high}]; cannot scale it to 0..255");
        // Same operation order as the notebook: (v - min) / (max - min) * 255.
        for (var i = 0; i < result.Length; i++)
            result[i] = (result[i] - min) / (max - min) * 255.0;
        return result;
    }
}
