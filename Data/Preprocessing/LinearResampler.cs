using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Preprocessing;

/// <summary>How a resampled value is stored, as SimpleITK stores it in an image of the input's pixel type.</summary>
public enum SampleCast
{
    /// <summary>Kept in double (a float64 image).</summary>
    None,
    /// <summary>Rounded to float32 (a float32 image, e.g. the label masks the notebooks build).</summary>
    Single,
    /// <summary>Truncated toward zero, as ITK's static_cast does for an integer image. No clamping is needed: linear interpolation stays within the input's range.</summary>
    Truncate,
}

/// <summary>
/// The reference's <c>resample_by_res</c>: SimpleITK <c>ResampleImageFilter</c> with linear interpolation, the
/// input's origin and direction, a new spacing and size int(n·old/new + 1) per axis.
/// <para>
/// On the voxel grid this means: output index i sits at physical offset i·new from the shared origin, so it
/// samples the input at continuous index i·new/old. ITK treats an index as inside when it lies in
/// [−0.5, n − 0.5); between n − 1 and n − 0.5 the upper neighbour is clamped to n − 1, and beyond n − 0.5 the
/// output gets the filter's default value 0 (not the image minimum). The +1 in the size formula therefore
/// often adds a last row, column or slice of zeros (the 257th row of SABS, an empty last slice when z keeps
/// its spacing). Interpolation is ITK's 3D cascade: along x, then y, then z, each as a + (b − a)·d.
/// </para>
/// </summary>
public static class LinearResampler
{
    public static int OutputSize(int size, double oldSpacing, double newSpacing)
    {
        if (!(oldSpacing > 0) || !(newSpacing > 0)) throw new ArgumentOutOfRangeException(nameof(newSpacing), "spacings must be positive");
        // Same double operations as the notebook: RES_COE = old / new; int(size * RES_COE + 1).
        return (int)(size * (oldSpacing / newSpacing) + 1);
    }

    public static Volume<double> Resample(Volume<double> input, IReadOnlyList<double> oldSpacing, IReadOnlyList<double> newSpacing, SampleCast cast)
    {
        var ax = Axis.Build(input.Width, oldSpacing[0], newSpacing[0]);
        var ay = Axis.Build(input.Height, oldSpacing[1], newSpacing[1]);
        var az = Axis.Build(input.Depth, oldSpacing[2], newSpacing[2]);
        int nx = ax.Size, ny = ay.Size, nz = az.Size;
        var output = new double[nx * ny * nz];
        Parallel.For(0, nz, k =>
        {
            if (!az.Inside[k]) return; // the slice stays 0
            for (var j = 0; j < ny; j++)
            {
                if (!ay.Inside[j]) continue;
                for (var i = 0; i < nx; i++)
                {
                    if (!ax.Inside[i]) continue;
                    output[i + nx * (j + ny * k)] = Cast(Sample(input, ax, ay, az, i, j, k), cast);
                }
            }
        });
        return new Volume<double>(nx, ny, nz, output);
    }

    private static double Sample(Volume<double> v, Axis ax, Axis ay, Axis az, int i, int j, int k)
    {
        int x0 = ax.Low[i], x1 = ax.High[i], y0 = ay.Low[j], y1 = ay.High[j], z0 = az.Low[k], z1 = az.High[k];
        double dx = ax.Distance[i], dy = ay.Distance[j], dz = az.Distance[k];
        var val00 = Lerp(v[x0, y0, z0], v[x1, y0, z0], dx);
        var val10 = Lerp(v[x0, y1, z0], v[x1, y1, z0], dx);
        var val0 = Lerp(val00, val10, dy);
        var val01 = Lerp(v[x0, y0, z1], v[x1, y0, z1], dx);
        var val11 = Lerp(v[x0, y1, z1], v[x1, y1, z1], dx);
        var val1 = Lerp(val01, val11, dy);
        return Lerp(val0, val1, dz);
    }

    // ITK's ComputeInterpolation. With d = 0 (or a clamped neighbour equal to a) it returns a exactly, matching
    // ITK's shortcuts that skip such neighbours.
    private static double Lerp(double a, double b, double d) => a + (b - a) * d;

    private static double Cast(double value, SampleCast cast) => cast switch
    {
        SampleCast.None => value,
        SampleCast.Single => (float)value,
        SampleCast.Truncate => Math.Truncate(value),
        _ => throw new ArgumentOutOfRangeException(nameof(cast)),
    };

    /// <summary>Per output index along one axis: inside or not, the two input neighbours and the weight of the upper one.</summary>
    private sealed record Axis(int Size, bool[] Inside, int[] Low, int[] High, double[] Distance)
    {
        public static Axis Build(int inputSize, double oldSpacing, double newSpacing)
        {
            var size = OutputSize(inputSize, oldSpacing, newSpacing);
            var inside = new bool[size];
            var low = new int[size];
            var high = new int[size];
            var distance = new double[size];
            for (var i = 0; i < size; i++)
            {
                // Output and input share origin and direction, so the point i·new lies at input index i·new/old (never negative).
                var index = i * newSpacing / oldSpacing;
                inside[i] = index < inputSize - 0.5;
                var floor = Math.Floor(index);
                low[i] = (int)Math.Min(floor, inputSize - 1);
                high[i] = Math.Min(low[i] + 1, inputSize - 1);
                distance[i] = index - floor;
            }
            return new Axis(size, inside, low, high, distance);
        }
    }
}
