namespace IlgpuSeg.Data.Superpixels;

/// <summary>
/// SSL-ALPNet's superpixel pseudo-labels (<c>data/pseudolabel_gen.ipynb</c>, mode 'MIDDLE'), made per axial slice
/// of the raw (not yet z-scored) volume: Felzenszwalb with scale 1, sigma 1, min_size 400, superpixels outside
/// the body mask removed, and the notebook's numbering. Written as <c>superpix-MIDDLE_&lt;pid&gt;.nii.gz</c>.
/// </summary>
public static class PseudoLabeller
{
    public const double Scale = 1;
    public const double Sigma = 1;
    public const int MinSize = 400;

    public static string OutputFileName(int pid) => $"superpix-MIDDLE_{pid}.nii.gz";

    /// <summary>
    /// Pseudo-labels for a 3D volume (x, y, z) on the same grid, as int32. Each axial slice z is segmented as the
    /// (y rows × x columns) array that SimpleITK's GetArrayFromImage(img)[z] gives the notebook: with our x-fastest
    /// layout that is the slice's values in storage order, no transpose or flip. The orientation matters: it
    /// fixes the edge order, and so the result.
    /// </summary>
    public static NiftiImage LabelVolume(NiftiImage image, double threshold)
    {
        if (image.Shape.Length != 3)
            throw new DataFormatException(image.Source, $"expected a 3D volume, got shape {string.Join("x", image.Shape)}");
        int width = image.Shape[0], height = image.Shape[1], depth = image.Shape[2];
        var data = image.GetData();
        var labels = new double[data.Length];
        var sliceSize = width * height;
        for (var z = 0; z < depth; z++)
        {
            var slice = LabelSlice(data.AsSpan(z * sliceSize, sliceSize), height, width, threshold);
            for (var i = 0; i < sliceSize; i++) labels[z * sliceSize + i] = slice[i];
        }
        return image.WithData(NiftiDataType.Int32, labels);
    }

    /// <summary>Pseudo-labels of one row-major (height × width) slice.</summary>
    public static int[] LabelSlice(ReadOnlySpan<double> slice, int height, int width, double threshold)
    {
        var segments = Felzenszwalb.Segment(slice, height, width, Scale, Sigma, MinSize);
        var mask = BodyMask.Compute(slice, height, width, threshold);
        return NumberAsNotebook(segments, mask);
    }

    /// <summary>
    /// The notebook's <c>superpix_masking</c>, reproduced on purpose so that our files hold the same numbers as
    /// SSL-ALPNet's. With Felzenszwalb labels 0..K-1 it gives:
    /// <list type="bullet">
    /// <item>0 outside the body mask;</item>
    /// <item>0 for the whole segment Felzenszwalb numbered 0 (the one holding the top-left pixel), even inside the
    ///   body: the notebook first renumbers it K but then only visits the labels 0..K-1 (PROTOCOL.md §4.1);</item>
    /// <item>K for segment K-1: the notebook visits K-1 a second time (it appends max = K-1 where K was meant),
    ///   and numbers by visit, so K-1 is given K and the number K-1 is left unused;</item>
    /// <item>k for every other segment k, so a segment wholly outside the body leaves its number unused too.</item>
    /// </list>
    /// So the numbers are not contiguous. That matters downstream: the episode sampler draws an id uniformly from
    /// [1, max) (PROTOCOL.md §4.2), so it can draw an unused number (an empty mask) and never draws K.
    /// </summary>
    public static int[] NumberAsNotebook(int[] segments, bool[] mask)
    {
        var top = 0;
        foreach (var s in segments) top = Math.Max(top, s);
        var labels = new int[segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            if (!mask[i] || s == 0) continue;
            labels[i] = s == top ? top + 1 : s;
        }
        return labels;
    }
}
