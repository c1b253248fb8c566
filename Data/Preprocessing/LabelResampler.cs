using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// The reference's <c>resample_lb_by_res</c>: each label value's binary mask (float32) is resampled linearly,
/// rounded with <c>np.rint</c> (half to even, so exactly 0.5 becomes 0), and merged in increasing label order,
/// so where two masks both round to 1 the larger label wins. Background needs no pass: it is what is left.
/// </summary>
public static class LabelResampler
{
    public static Volume<int> Resample(Volume<int> labels, IReadOnlyList<double> oldSpacing, IReadOnlyList<double> newSpacing)
    {
        var nx = LinearResampler.OutputSize(labels.Width, oldSpacing[0], newSpacing[0]);
        var ny = LinearResampler.OutputSize(labels.Height, oldSpacing[1], newSpacing[1]);
        var nz = LinearResampler.OutputSize(labels.Depth, oldSpacing[2], newSpacing[2]);
        var output = new Volume<int>(nx, ny, nz, new int[nx * ny * nz]);
        foreach (var value in labels.Data.Distinct().Where(v => v != 0).Order())
        {
            var mask = Array.ConvertAll(labels.Data, v => v == value ? 1.0 : 0.0);
            var resampled = LinearResampler.Resample(new Volume<double>(labels.Width, labels.Height, labels.Depth, mask), oldSpacing, newSpacing, SampleCast.Single);
            for (var i = 0; i < resampled.Data.Length; i++)
                if (Math.Round(resampled.Data[i], MidpointRounding.ToEven) == 1) output.Data[i] = value;
        }
        return output;
    }
}
