namespace IlgpuSeg.Data.Augmentation;

/// <summary>One draw of the random affine: angles in degrees, shifts in pixels (x = columns, y = rows).</summary>
public readonly record struct AffineParameters(double RotationDegrees, double TranslationX, double TranslationY, double ShearDegrees, double Zoom)
{
    public static AffineParameters Identity => new(0, 0, 0, 0, 1);

    /// <summary>
    /// The forward 2 × 3 matrix (row-major, maps source (x, y) to destination) of Zoom·Shear·Translate·Rotate, built
    /// as the reference does: rotation and zoom with OpenCV's <c>getRotationMatrix2D</c> about the centre
    /// (H/2, W//2) passed as (x, y) — for the square slices used this is the slice centre — and the product
    /// rounded to float32 as the reference's <c>astype(np.float32)</c> does.
    /// </summary>
    public double[] ForwardMatrix(int height, int width)
    {
        double cx = height / 2.0, cy = width / 2;
        var rotate = AboutCentre(RotationDegrees, 1, cx, cy);
        var translate = new double[,] { { 1, 0, TranslationX }, { 0, 1, TranslationY }, { 0, 0, 1 } };
        var theta = Math.PI * ShearDegrees / 180;
        var shear = new double[,] { { 1, -Math.Sin(theta), 0 }, { 0, Math.Cos(theta), 0 }, { 0, 0, 1 } };
        var zoom = AboutCentre(0, Zoom, cx, cy);
        var m = Multiply(zoom, Multiply(shear, Multiply(translate, rotate)));
        return [(float)m[0, 0], (float)m[0, 1], (float)m[0, 2], (float)m[1, 0], (float)m[1, 1], (float)m[1, 2]];
    }

    /// <summary>OpenCV's rotation-and-scale about a centre: positive angles turn counter-clockwise on screen (y down).</summary>
    private static double[,] AboutCentre(double degrees, double scale, double cx, double cy)
    {
        var radians = degrees * Math.PI / 180;
        double a = scale * Math.Cos(radians), b = scale * Math.Sin(radians);
        return new[,] { { a, b, (1 - a) * cx - b * cy }, { -b, a, b * cx + (1 - a) * cy }, { 0, 0, 1 } };
    }

    private static double[,] Multiply(double[,] p, double[,] q)
    {
        var r = new double[3, 3];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                for (var k = 0; k < 3; k++) r[i, j] += p[i, k] * q[k, j];
        return r;
    }
}
