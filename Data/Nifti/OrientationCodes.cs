namespace IlgpuSeg.Data;

/// <summary>
/// Axis codes such as "RAS" or "LAS": for each voxel axis, the world direction (RAS+ convention) it points to most.
/// Same result as nibabel's <c>aff2axcodes</c>: normalise the columns, take the nearest rotation (polar
/// decomposition) to drop shears, then give each voxel axis the world axis with the largest component, taking
/// world axes greedily so none is used twice.
/// </summary>
public static class OrientationCodes
{
    private const string PositiveCodes = "RAS";
    private const string NegativeCodes = "LPI";

    /// <summary>One letter per spatial voxel axis; '?' for an axis with no direction (a zero column, or non-finite values).</summary>
    public static string FromAffine(double[,] affine)
    {
        var rs = new double[3, 3];
        for (var j = 0; j < 3; j++)
        {
            var norm = Math.Sqrt(affine[0, j] * affine[0, j] + affine[1, j] * affine[1, j] + affine[2, j] * affine[2, j]);
            if (norm == 0) norm = 1;
            for (var i = 0; i < 3; i++) rs[i, j] = affine[i, j] / norm;
        }
        foreach (var v in rs)
            if (!double.IsFinite(v)) return "???";

        var r = NearestRotation(rs);
        var codes = new char[3];
        for (var inAxis = 0; inAxis < 3; inAxis++)
        {
            var outAxis = -1;
            for (var i = 0; i < 3; i++)
                if (Math.Abs(r[i, inAxis]) > 1e-8 && (outAxis < 0 || Math.Abs(r[i, inAxis]) > Math.Abs(r[outAxis, inAxis])))
                    outAxis = i;
            if (outAxis < 0)
            {
                codes[inAxis] = '?';
                continue;
            }
            codes[inAxis] = r[outAxis, inAxis] < 0 ? NegativeCodes[outAxis] : PositiveCodes[outAxis];
            for (var j = 0; j < 3; j++) r[outAxis, j] = 0; // this world axis is taken
        }
        return new string(codes);
    }

    /// <summary>
    /// The orthogonal factor of the polar decomposition, by Newton's iteration X ← (X + X⁻ᵀ)/2.
    /// A (near-)singular matrix is returned unchanged; nibabel would drop its null directions instead,
    /// which only differs for degenerate affines.
    /// </summary>
    private static double[,] NearestRotation(double[,] m)
    {
        var x = (double[,])m.Clone();
        for (var iter = 0; iter < 100; iter++)
        {
            var det = Determinant(x);
            if (Math.Abs(det) < 1e-12) return (double[,])m.Clone();
            var change = 0.0;
            var next = new double[3, 3];
            for (var i = 0; i < 3; i++)
                for (var j = 0; j < 3; j++)
                {
                    // (X⁻ᵀ)[i,j] = cofactor(i,j) / det
                    next[i, j] = 0.5 * (x[i, j] + Cofactor(x, i, j) / det);
                    change = Math.Max(change, Math.Abs(next[i, j] - x[i, j]));
                }
            x = next;
            if (change < 1e-15) break;
        }
        return x;
    }

    private static double Determinant(double[,] a) =>
        a[0, 0] * Cofactor(a, 0, 0) + a[0, 1] * Cofactor(a, 0, 1) + a[0, 2] * Cofactor(a, 0, 2);

    private static double Cofactor(double[,] a, int i, int j)
    {
        int r0 = i == 0 ? 1 : 0, r1 = i == 2 ? 1 : 2;
        int c0 = j == 0 ? 1 : 0, c1 = j == 2 ? 1 : 2;
        var minor = a[r0, c0] * a[r1, c1] - a[r0, c1] * a[r1, c0];
        return (i + j) % 2 == 0 ? minor : -minor;
    }
}
