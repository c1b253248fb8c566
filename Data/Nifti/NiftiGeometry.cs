namespace IlgpuSeg.Data;

/// <summary>Which header fields the voxel-to-world affine came from.</summary>
public enum AffineSource
{
    /// <summary>srow_x/y/z, used when sform_code is valid and non-zero.</summary>
    SForm,
    /// <summary>Quaternion, qoffset and qfac, used when only qform_code is valid and non-zero.</summary>
    QForm,
    /// <summary>Neither code set: a pixdim diagonal centred on the volume, x flipped (ANALYZE convention).</summary>
    PixDim,
}

/// <summary>
/// Voxel spacing and voxel-to-world affines, following nibabel's reading of the header, including the fixes
/// nibabel applies on load: pixdim[1..3] of 0 become 1 and negative ones their absolute value, a qfac other than
/// -1 means 1, and an xform code outside 0..5 counts as 0.
/// </summary>
public static class NiftiGeometry
{
    // nibabel accepts |(b,c,d)| slightly above 1 from float32 rounding: 1 - |bcd|^2 down to -3 float32 eps.
    private const double QuaternionThreshold = -3 * 1.1920928955078125e-07;
    private const double Float64Epsilon = 2.220446049250313e-16;

    /// <summary>Voxel sizes pixdim[1..ndim], with the spatial ones fixed as described above.</summary>
    public static double[] Spacing(NiftiHeader h)
    {
        var spacing = new double[h.NDim];
        for (var i = 0; i < spacing.Length; i++)
            spacing[i] = i < 3 ? FixSpatial(h.PixDim[i + 1]) : h.PixDim[i + 1];
        return spacing;
    }

    public static AffineSource BestSource(NiftiHeader h) =>
        ValidCode(h.SFormCode) ? AffineSource.SForm
        : ValidCode(h.QFormCode) ? AffineSource.QForm
        : AffineSource.PixDim;

    /// <summary>The affine nibabel picks: sform if its code is set, else qform if its code is set, else the pixdim diagonal.</summary>
    public static double[,] BestAffine(NiftiHeader h, string path) => BestSource(h) switch
    {
        AffineSource.SForm => SFormAffine(h),
        AffineSource.QForm => QFormAffine(h, path),
        _ => PixDimAffine(h),
    };

    public static double[,] SFormAffine(NiftiHeader h)
    {
        var a = Identity();
        for (var j = 0; j < 4; j++)
        {
            a[0, j] = h.SRowX[j];
            a[1, j] = h.SRowY[j];
            a[2, j] = h.SRowZ[j];
        }
        return a;
    }

    /// <summary>Rotation from the unit quaternion (a, b, c, d), times diag(pixdim[1], pixdim[2], qfac·pixdim[3]), plus qoffset.</summary>
    public static double[,] QFormAffine(NiftiHeader h, string path)
    {
        double b = h.QuaternB, c = h.QuaternC, d = h.QuaternD;
        var a2 = 1.0 - (b * b + c * c + d * d);
        if (a2 < QuaternionThreshold)
            throw new DataFormatException(path, $"qform quaternion (b, c, d) = ({b}, {c}, {d}) has length over 1");
        var a = a2 < 0 ? 0.0 : Math.Sqrt(a2);
        var r = QuaternionToRotation(a, b, c, d);

        var qfac = h.PixDim[0] == -1 ? -1.0 : 1.0;
        double[] vox = [FixSpatial(h.PixDim[1]), FixSpatial(h.PixDim[2]), FixSpatial(h.PixDim[3]) * qfac];
        var m = Identity();
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                m[i, j] = r[i, j] * vox[j];
        m[0, 3] = h.QOffsetX;
        m[1, 3] = h.QOffsetY;
        m[2, 3] = h.QOffsetZ;
        return m;
    }

    /// <summary>diag(-dx, dy, dz) with the volume centre at the origin.</summary>
    public static double[,] PixDimAffine(NiftiHeader h)
    {
        var spacing = Spacing(h);
        var shape = h.Shape;
        var m = Identity();
        for (var i = 0; i < 3; i++)
        {
            var zoom = i < spacing.Length ? spacing[i] : 1.0;
            var size = i < shape.Length ? shape[i] : 1;
            if (i == 0) zoom = -zoom;
            m[i, i] = zoom;
            m[i, 3] = -(size - 1) / 2.0 * zoom;
        }
        return m;
    }

    private static double[,] QuaternionToRotation(double w, double x, double y, double z)
    {
        var n = w * w + x * x + y * y + z * z;
        if (n < Float64Epsilon) return Identity3(); // degenerate quaternion: no rotation, as nibabel
        var s = 2.0 / n;
        double xs = x * s, ys = y * s, zs = z * s;
        double wx = w * xs, wy = w * ys, wz = w * zs;
        double xx = x * xs, xy = x * ys, xz = x * zs;
        double yy = y * ys, yz = y * zs, zz = z * zs;
        return new[,]
        {
            { 1 - (yy + zz), xy - wz, xz + wy },
            { xy + wz, 1 - (xx + zz), yz - wx },
            { xz - wy, yz + wx, 1 - (xx + yy) },
        };
    }

    private static bool ValidCode(short code) => code is >= 1 and <= 5;

    private static double FixSpatial(float pixdim) => pixdim == 0 ? 1.0 : Math.Abs(pixdim);

    private static double[,] Identity() => new double[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } };

    private static double[,] Identity3() => new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
}
