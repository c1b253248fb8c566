namespace IlgpuSeg.Data.Augmentation;

/// <summary>
/// The reference's gamma: with m = min, r = max − m + 1e-5, img ← r·((img − m + 1e-5)/r)^γ + m. It keeps the
/// range and bends the intensities; γ &lt; 1 brightens, γ &gt; 1 darkens. Image only, after the geometric warp.
/// </summary>
public static class GammaTransform
{
    public static float[] Apply(ReadOnlySpan<float> image, double gamma)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in image)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        var range = max - (double)min + 1e-5;
        var result = new float[image.Length];
        for (var i = 0; i < result.Length; i++)
            result[i] = (float)(range * Math.Pow((image[i] - (double)min + 1e-5) / range, gamma) + min);
        return result;
    }
}
