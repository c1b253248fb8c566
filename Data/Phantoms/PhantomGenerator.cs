using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Phantoms;

public sealed record PhantomOptions
{
    public int Width { get; init; } = 64;
    public int Height { get; init; } = 64;
    public int Depth { get; init; } = 24;

    /// <summary>Voxel size written to the NIfTI header (mm).</summary>
    public double[] Spacing { get; init; } = [5.0, 5.0, 7.7];

    /// <summary>Standard deviation of the per-voxel Gaussian noise, in the raw intensity scale (body ≈ 100).</summary>
    public double NoiseStd { get; init; } = 8;
}

/// <summary>
/// Synthetic abdominal phantoms for fast tests and the demo: a body ellipse and four organ-like ellipsoids labelled as
/// CHAOS (1 liver, 2 right kidney, 3 left kidney, 4 spleen), each with its own brightness, a smooth texture and
/// noise; positions and sizes vary per scan. Written in the SSL-ALPNet layout, so every loader, sampler and the
/// evaluator run on them unchanged. Each scan's stream depends only on (seed, pid), not on the other scans.
/// </summary>
public static class PhantomGenerator
{
    private sealed record Organ(int Label, double Cx, double Cy, double Cz, double Rx, double Ry, double Rz, double Brightness);

    // Centre and radii as fractions of the volume; later organs are painted over earlier ones.
    private static readonly Organ[] Organs =
    [
        new(1, 0.33, 0.42, 0.55, 0.20, 0.22, 0.30, 160),
        new(4, 0.72, 0.40, 0.60, 0.10, 0.12, 0.22, 130),
        new(2, 0.35, 0.70, 0.42, 0.07, 0.09, 0.18, 220),
        new(3, 0.66, 0.70, 0.44, 0.07, 0.09, 0.18, 190),
    ];

    public static (Volume<float> Image, Volume<int> Label) Generate(PhantomOptions options, ulong seed, int pid)
    {
        int w = options.Width, h = options.Height, d = options.Depth;
        var generator = new Generator(seed) { Counter = (ulong)pid << 40 };
        double Uniform(double lo, double hi) => lo + (hi - lo) * generator.NextDouble();

        var image = new float[w * h * d];
        var label = new int[w * h * d];
        double bodyRx = Uniform(0.42, 0.47) * w, bodyRy = Uniform(0.34, 0.40) * h;
        var placed = Organs.Select(o =>
        {
            var scale = Uniform(0.85, 1.15);
            return (Organ: o,
                Cx: (o.Cx + Uniform(-0.03, 0.03)) * w, Cy: (o.Cy + Uniform(-0.03, 0.03)) * h, Cz: (o.Cz + Uniform(-0.08, 0.08)) * d,
                Rx: o.Rx * scale * w, Ry: o.Ry * scale * h, Rz: o.Rz * Uniform(0.85, 1.15) * d,
                // A slow wave across the organ gives it texture that a prototype can learn but that is not uniform.
                Fx: Uniform(0.2, 0.6), Fy: Uniform(0.2, 0.6), Phase: Uniform(0, 2 * Math.PI));
        }).ToArray();

        for (var z = 0; z < d; z++)
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var i = x + w * (y + h * z);
                    double bx = (x + 0.5 - w / 2.0) / bodyRx, by = (y + 0.5 - h / 2.0) / bodyRy;
                    if (bx * bx + by * by > 1) continue;
                    double value = 100 + 6 * Math.Sin(0.15 * x + 0.1 * y);
                    foreach (var p in placed)
                    {
                        double ex = (x + 0.5 - p.Cx) / p.Rx, ey = (y + 0.5 - p.Cy) / p.Ry, ez = (z + 0.5 - p.Cz) / p.Rz;
                        if (ex * ex + ey * ey + ez * ez > 1) continue;
                        label[i] = p.Organ.Label;
                        value = p.Organ.Brightness + 12 * Math.Sin(p.Fx * x + p.Fy * y + p.Phase);
                    }
                    image[i] = (float)value;
                }

        var noise = generator.Take(image.Length);
        for (var i = 0; i < image.Length; i++) image[i] += (float)(options.NoiseStd * Philox.Normal(noise.Block(i)));
        return (new Volume<float>(w, h, d, image), new Volume<int>(w, h, d, label));
    }

    /// <summary>Writes image_&lt;pid&gt;.nii.gz (float32), label_&lt;pid&gt;.nii.gz (uint8) and classmap_1.json with CHAOS names.</summary>
    public static void WriteFolder(string directory, PhantomOptions options, ulong seed, IReadOnlyList<int> pids)
    {
        Directory.CreateDirectory(directory);
        var labels = new List<(int, Volume<int>)>();
        int[] shape = [options.Width, options.Height, options.Depth];
        foreach (var pid in pids)
        {
            var (image, label) = Generate(options, seed, pid);
            Nifti.Write(Path.Combine(directory, $"image_{pid}.nii.gz"),
                NiftiImage.Create(shape, options.Spacing, NiftiDataType.Float32, Array.ConvertAll(image.Data, v => (double)v)));
            Nifti.Write(Path.Combine(directory, $"label_{pid}.nii.gz"),
                NiftiImage.Create(shape, options.Spacing, NiftiDataType.UInt8, Array.ConvertAll(label.Data, v => (double)v)));
            labels.Add((pid, label));
        }
        ClassMapWriter.Write(directory, DatasetInfo.Chaos.LabelNames, labels);
    }
}
