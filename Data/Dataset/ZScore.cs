namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// Per-volume z-score, the MR normalisation of SSL-ALPNet (<c>(x − mean) / std</c> over the whole volume,
/// population std). Statistics are accumulated in double so the result does not depend on summation order.
/// </summary>
public static class ZScore
{
    public static float[] Normalize(ReadOnlySpan<double> values, string source)
    {
        double sum = 0;
        foreach (var v in values) sum += v;
        var mean = sum / values.Length;
        double squares = 0;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        var std = Math.Sqrt(squares / values.Length);
        if (!(std > 0) || double.IsNaN(mean))
            throw new DataFormatException(source, "image is constant or holds NaN, so it cannot be z-scored");
        var result = new float[values.Length];
        for (var i = 0; i < result.Length; i++) result[i] = (float)((values[i] - mean) / std);
        return result;
    }
}
