namespace IlgpuSeg.Data.Augmentation;

/// <summary>
/// <c>cv2.GaussianBlur</c> with an explicit odd kernel size and σ, default border (BORDER_REFLECT_101: d c b | a b c d | c b a),
/// separable, computed in double. Used for the elastic displacement fields and the pseudo-style blur.
/// </summary>
public static class GaussianBlur
{
    /// <summary>Normalised 1D weights exp(−(i − (n−1)/2)² / 2σ²), as <c>cv2.getGaussianKernel</c> for σ &gt; 0 and n &gt; 7.</summary>
    public static double[] Kernel(int size, double sigma)
    {
        if (size < 1 || size % 2 == 0) throw new ArgumentException($"kernel size {size} must be odd and positive");
        if (!(sigma > 0)) throw new ArgumentException($"sigma {sigma} must be positive");
        var weights = new double[size];
        var half = (size - 1) / 2.0;
        for (var i = 0; i < size; i++) weights[i] = Math.Exp(-(i - half) * (i - half) / (2 * sigma * sigma));
        var sum = weights.Sum();
        for (var i = 0; i < size; i++) weights[i] /= sum;
        return weights;
    }

    public static double[] Apply(ReadOnlySpan<double> source, int height, int width, int size, double sigma)
    {
        var k = Kernel(size, sigma);
        var r = size / 2;
        var rows = new double[height * width];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                double s = 0;
                for (var i = 0; i < size; i++) s += k[i] * source[y * width + Reflect101(x + i - r, width)];
                rows[y * width + x] = s;
            }
        var result = new double[height * width];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                double s = 0;
                for (var i = 0; i < size; i++) s += k[i] * rows[Reflect101(y + i - r, height) * width + x];
                result[y * width + x] = s;
            }
        return result;
    }

    /// <summary>Index into [0, n) mirrored about the edge pixels (the edge itself is not repeated).</summary>
    public static int Reflect101(int i, int n)
    {
        if (n == 1) return 0;
        var period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }
}
