using IlgpuSeg.Data.Augmentation;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Episodes;

/// <summary>
/// SSL-ALPNet's episode construction: support and query are the same slice, augmented independently (copy 0 is
/// the support, copy 1 the query). Rater styles are applied to the binary mask first, so every rater's mask is
/// warped with the image by the same draw.
/// </summary>
public static class SameSliceEpisode
{
    public static Episode Build(Slice2D<float> image, Slice2D<byte> mask, IReadOnlyList<RaterStyle> styles, Augmenter augmenter, Generator generator,
        int pid, int slice, EpisodeSource source, int labelId)
    {
        var masks = styles.Select(s => s.Apply(mask)).ToArray();
        var support = augmenter.Apply(image, masks, generator);
        var query = augmenter.Apply(image, masks, generator);
        return new Episode(support.Image, support.Masks, query.Image, query.Masks, new EpisodeInfo(pid, slice, source, labelId, styles));
    }

    /// <summary>The 0/1 mask of pixels equal to <paramref name="value"/>.</summary>
    public static Slice2D<byte> Binarize(Slice2D<int> labels, int value) =>
        new(labels.Height, labels.Width, Array.ConvertAll(labels.Data, v => v == value ? (byte)1 : (byte)0));
}
