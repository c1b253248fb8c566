namespace IlgpuSeg.Data.Dataset;

/// <summary>The mean and population standard deviation that a z-score divides by.</summary>
public readonly record struct IntensityStatistics(double Mean, double Std);

/// <summary>
/// Z-scoring as SSL-ALPNet does it (PROTOCOL §1.4): MR volumes each with their own statistics, CT volumes with one
/// pair pooled over every voxel of the training fold's scans (test scans reuse it). Statistics are accumulated in
/// double, volume by volume in a fixed order, so the result does not depend on thread count.
/// </summary>
public static class ZScore
{
    /// <summary>Per-volume z-score, <c>(x − mean) / std</c> over the whole volume.</summary>
    public static float[] Normalize(ReadOnlySpan<double> values, string source) => Normalize(values, Statistics(values), source);

    public static float[] Normalize(ReadOnlySpan<double> values, IntensityStatistics statistics, string source)
    {
        var (mean, std) = statistics;
        if (!(std > 0) || double.IsNaN(mean))
            throw new DataFormatException(source, "image is constant or holds NaN, so it cannot be z-scored");
        var result = new float[values.Length];
        for (var i = 0; i < result.Length; i++) result[i] = (float)((values[i] - mean) / std);
        return result;
    }

    public static IntensityStatistics Statistics(ReadOnlySpan<double> values)
    {
        var (mean, squares) = MeanAndSquares(values);
        return new(mean, Math.Sqrt(squares / values.Length));
    }

    /// <summary>
    /// The statistics of all volumes' voxels taken together, as if concatenated: each volume's mean and sum of squared
    /// deviations (two passes), merged in order with Chan et al.'s pairwise update, so one volume is held at a time.
    /// </summary>
    public static IntensityStatistics Pooled(IEnumerable<double[]> volumes)
    {
        long count = 0;
        double mean = 0, squares = 0;
        foreach (var volume in volumes)
        {
            var (m, s) = MeanAndSquares(volume);
            long n = volume.Length, total = count + n;
            double delta = m - mean;
            mean += delta * n / total;
            squares += s + delta * delta * ((double)count * n / total);
            count = total;
        }
        return new(mean, count == 0 ? 0 : Math.Sqrt(squares / count));
    }

    private static (double Mean, double Squares) MeanAndSquares(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (var v in values) sum += v;
        var mean = sum / values.Length;
        double squares = 0;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        return (mean, squares);
    }
}
