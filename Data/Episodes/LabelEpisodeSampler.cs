using IlgpuSeg.Data.Augmentation;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Episodes;

public sealed record LabelSamplerOptions
{
    /// <summary>Label values an episode may segment.</summary>
    public required IReadOnlyCollection<int> Classes { get; init; }

    /// <summary>Slices holding any of these label values are never used (Setting 2 on ground truth).</summary>
    public IReadOnlyCollection<int> ExcludedClasses { get; init; } = [];

    /// <summary>A class counts as present in a slice from this many pixels on.</summary>
    public int MinPixels { get; init; } = 1;

    public AugmentationOptions Augmentation { get; init; } = AugmentationOptions.SslAlpNet;

    /// <summary>Rater styles applied to the label (e.g. <see cref="SimulatedRaters.Default"/>); one identity rater by default.</summary>
    public IReadOnlyList<RaterStyle> Raters { get; init; } = SimulatedRaters.Single;
}

/// <summary>
/// Episodes from ground-truth labels, for supervised training and tests: pick a slice uniformly among those
/// holding an allowed class (and no excluded one), pick one of its allowed classes uniformly, binarise, and build
/// support and query from the same slice augmented independently, with the given rater styles.
/// </summary>
public sealed class LabelEpisodeSampler
{
    private readonly Dictionary<int, Scan> _scans;
    private readonly Augmenter _augmenter;

    public LabelEpisodeSampler(IReadOnlyList<Scan> scans, LabelSamplerOptions options)
    {
        if (options.Classes.Count == 0 || options.Classes.Any(c => c < 1)) throw new ArgumentException("classes must be foreground label values (≥ 1)");
        if (options.Raters.Count < 1) throw new ArgumentException("at least one rater style");
        Options = options;
        _augmenter = new Augmenter(options.Augmentation);
        _scans = scans.ToDictionary(s => s.Pid);
        var slices = new List<(int, int, int[])>();
        foreach (var scan in scans)
            for (var z = 0; z < scan.Depth; z++)
            {
                var counts = new Dictionary<int, int>();
                foreach (var v in scan.Label.SliceSpan(z)) counts[v] = counts.GetValueOrDefault(v) + 1;
                if (options.ExcludedClasses.Any(counts.ContainsKey)) continue;
                var present = options.Classes.Where(c => counts.GetValueOrDefault(c) >= options.MinPixels).Order().ToArray();
                if (present.Length > 0) slices.Add((scan.Pid, z, present));
            }
        if (slices.Count == 0) throw new ArgumentException($"no slice holds any of classes {string.Join(", ", options.Classes)}");
        Slices = slices;
    }

    public LabelSamplerOptions Options { get; }

    /// <summary>The eligible slices with the allowed classes present in each.</summary>
    public IReadOnlyList<(int Pid, int Slice, int[] Classes)> Slices { get; }

    public Episode Next(Generator generator)
    {
        var (pid, z, classes) = Slices[generator.NextInt(Slices.Count)];
        var cls = classes[generator.NextInt(classes.Length)];
        var scan = _scans[pid];
        var mask = SameSliceEpisode.Binarize(scan.Label.Slice(z), cls);
        return SameSliceEpisode.Build(scan.Image.Slice(z), mask, Options.Raters, _augmenter, generator, pid, z, EpisodeSource.GroundTruth, cls);
    }
}
