using IlgpuSeg.Data.Augmentation;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Episodes;

/// <summary>How the superpixel id is drawn from a slice whose largest id is m.</summary>
public enum SuperpixelIdRange
{
    /// <summary>Uniform in [1, m): SSL-ALPNet's <c>randint(1, max)</c>, which never picks the largest id; slices with m &lt; 2 are skipped.</summary>
    ExcludeMax,

    /// <summary>Uniform in [1, m]: JAPC's fix.</summary>
    IncludeMax,
}

public sealed record SuperpixelSamplerOptions
{
    /// <summary>Dataset description: label names for the class map look-up of excluded classes.</summary>
    public DatasetInfo Dataset { get; init; } = DatasetInfo.Chaos;

    /// <summary>Setting 2: label values (≥ 1) whose classmap_1 slices are dropped; empty for Setting 1.</summary>
    public IReadOnlyCollection<int> ExcludedClasses { get; init; } = [];

    public SuperpixelIdRange IdRange { get; init; } = SuperpixelIdRange.ExcludeMax;

    public AugmentationOptions Augmentation { get; init; } = AugmentationOptions.SslAlpNet;

    /// <summary>R: rater 0 is the superpixel mask, raters 1..R−1 get fresh pseudo-styles per episode (JAPC). 1 = no styles.</summary>
    public int Raters { get; init; } = 1;

    public PseudoStyleOptions PseudoStyles { get; init; } = new();
}

/// <summary>
/// Self-supervised episodes from superpixels (PROTOCOL §4.2): pick a slice uniformly among the eligible ones
/// (at least one drawable superpixel id and, in Setting 2, no excluded class in classmap_1), draw an id, binarise,
/// and build support and query from the same slice augmented independently. The reference walks a shuffled slice
/// list and moves on from ineligible slices, which favours slices after empty ones; sampling uniformly over the
/// eligible list removes that bias. Ids are drawn from the id range without checking presence, as the reference
/// does: with per-slice relabelled superpixels (1..N) every id is present.
/// </summary>
public sealed class SuperpixelEpisodeSampler
{
    private readonly Dictionary<int, Scan> _scans;
    private readonly Augmenter _augmenter;

    public SuperpixelEpisodeSampler(IReadOnlyList<Scan> scans, ClassMap classMap, SuperpixelSamplerOptions options)
    {
        if (options.Raters < 1) throw new ArgumentOutOfRangeException(nameof(options), "at least one rater");
        Options = options;
        _augmenter = new Augmenter(options.Augmentation);
        _scans = scans.ToDictionary(s => s.Pid);
        var minMax = options.IdRange == SuperpixelIdRange.ExcludeMax ? 2 : 1;
        var slices = new List<(int, int, int)>();
        foreach (var scan in scans)
        {
            if (scan.Superpixels is not { } super)
                throw new ArgumentException($"scan {scan.Pid} has no superpixel volume (superpix-MIDDLE_{scan.Pid}.nii.gz)");
            var excluded = ExcludedSlices(classMap, scan.Pid, options);
            for (var z = 0; z < super.Depth; z++)
            {
                var max = 0;
                foreach (var v in super.SliceSpan(z)) max = Math.Max(max, v);
                if (max >= minMax && !excluded.Contains(z)) slices.Add((scan.Pid, z, max));
            }
        }
        if (slices.Count == 0) throw new ArgumentException("no slice has a superpixel to draw (after Setting 2 exclusion)");
        Slices = slices;
    }

    public SuperpixelSamplerOptions Options { get; }

    /// <summary>The eligible slices: (pid, slice index, largest superpixel id).</summary>
    public IReadOnlyList<(int Pid, int Slice, int MaxId)> Slices { get; }

    /// <summary>
    /// Draws slice, superpixel id, pseudo-styles, then the support and query augmentations, in that order. The styles
    /// come from <paramref name="styles"/> when given (their own stream, so the episodes do not depend on the number of
    /// raters), else from <paramref name="generator"/>.
    /// </summary>
    public Episode Next(Generator generator, Generator? styles = null)
    {
        var (pid, z, maxId) = Slices[generator.NextInt(Slices.Count)];
        var id = 1 + generator.NextInt(Options.IdRange == SuperpixelIdRange.ExcludeMax ? maxId - 1 : maxId);
        var raterStyles = new List<RaterStyle> { RaterStyle.Identity };
        for (var r = 1; r < Options.Raters; r++) raterStyles.Add(PseudoStyles.Draw(styles ?? generator, Options.PseudoStyles));
        var scan = _scans[pid];
        var mask = SameSliceEpisode.Binarize(scan.Superpixels!.Slice(z), id);
        return SameSliceEpisode.Build(scan.Image.Slice(z), mask, raterStyles, _augmenter, generator, pid, z, EpisodeSource.Superpixel, id);
    }

    private static HashSet<int> ExcludedSlices(ClassMap classMap, int pid, SuperpixelSamplerOptions options)
    {
        var excluded = new HashSet<int>();
        foreach (var value in options.ExcludedClasses)
        {
            var name = options.Dataset.NameOf(value);
            if (!classMap.Slices.TryGetValue(name, out var byPid))
                throw new DataFormatException(classMap.Path, $"no entry '{name}' for excluded class {value}");
            if (!byPid.TryGetValue(pid, out var slices))
                throw new DataFormatException(classMap.Path, $"entry '{name}' has no scan {pid}, so Setting 2 cannot drop its slices");
            excluded.UnionWith(slices);
        }
        return excluded;
    }
}
