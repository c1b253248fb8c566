namespace IlgpuSeg.Data.Augmentation;

/// <summary>
/// <c>cv2.warpAffine</c> with a forward matrix, bilinear interpolation and a constant-0 border: destination pixel
/// (x, y) takes the source at M⁻¹(x, y); a neighbour outside the slice counts as 0. OpenCV quantises the source
/// position to 1/32 pixel; this warp uses the exact position, so values can differ from OpenCV's in the last bits.
/// </summary>
public static class AffineWarp
{
    public static float[] Apply(ReadOnlySpan<float> source, int height, int width, double[] forward)
    {
        var inverse = Invert(forward);
        var result = new float[height * width];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var sx = inverse[0] * x + inverse[1] * y + inverse[2];
                var sy = inverse[3] * x + inverse[4] * y + inverse[5];
                result[y * width + x] = (float)SampleZeroBorder(source, height, width, sy, sx);
            }
        return result;
    }

    /// <summary>The inverse of a 2 × 3 affine (row-major).</summary>
    public static double[] Invert(double[] m)
    {
        var det = m[0] * m[4] - m[1] * m[3];
        if (det == 0) throw new ArgumentException("affine matrix is singular");
        double a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
        return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
    }

    private static double SampleZeroBorder(ReadOnlySpan<float> source, int height, int width, double y, double x)
    {
        var y0 = (int)Math.Floor(y);
        var x0 = (int)Math.Floor(x);
        double ty = y - y0, tx = x - x0;
        return (1 - ty) * ((1 - tx) * At(source, height, width, y0, x0) + tx * At(source, height, width, y0, x0 + 1))
             + ty * ((1 - tx) * At(source, height, width, y0 + 1, x0) + tx * At(source, height, width, y0 + 1, x0 + 1));
    }

    private static double At(ReadOnlySpan<float> source, int height, int width, int y, int x) =>
        (uint)y < (uint)height && (uint)x < (uint)width ? source[y * width + x] : 0.0;
}
