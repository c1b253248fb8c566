using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Preprocessing;

/// <summary>One preprocessed scan: the image and label files to write, and the labels as a volume for the class map.</summary>
public sealed record PreparedScan(NiftiImage Image, NiftiImage Label, Volume<int> Labels);

/// <summary>
/// Raw image + label → the SSL-ALPNet layout (PROTOCOL §5). MR: percentile clip, resample, centre crop/pad to
/// Size × Size (image padded with its minimum, labels with 0). CT: HU window and min-max to 0..255, border crop,
/// resample; no centre crop, as in the SABS notebook (its (Size + 1)² slices are cut to Size² by the loader,
/// <see cref="ScanFolderOptions.CropInPlane"/>). Labels are optionally remapped first, then resampled per value.
/// </summary>
public static class Preprocessor
{
    public static PreparedScan Prepare(NiftiImage image, NiftiImage label, PreprocessOptions options)
    {
        var (nx, ny, nz) = Dimensions(image);
        Nifti.CheckSameShape(image, label);
        var oldSpacing = image.Spacing.Take(3).ToArray();
        var labels = new Volume<int>(nx, ny, nz, ReadLabels(label, options.LabelMap));

        Volume<double> intensities;
        SampleCast cast;
        if (options.Modality == Modality.Mr)
        {
            var integerImage = IsInteger(image);
            intensities = new Volume<double>(nx, ny, nz, PercentileClip.Clip(image.GetData(), options.ClipPercentile, integerImage));
            // SimpleITK resamples into the image's own pixel type; an integer image gets truncated values.
            cast = integerImage ? SampleCast.Truncate : SampleCast.None;
        }
        else
        {
            // The min-max step makes the volume float64 in the notebook, so nothing is rounded afterwards.
            var scaled = HuWindow.Normalize(image.GetData(), options.HuLow, options.HuHigh, image.Source);
            intensities = BorderCrop.Crop(new Volume<double>(nx, ny, nz, scaled), options.Border, image.Source);
            labels = BorderCrop.Crop(labels, options.Border, label.Source);
            cast = SampleCast.None;
        }

        var newSpacing = TargetSpacing(options, oldSpacing, intensities.Width);
        intensities = LinearResampler.Resample(intensities, oldSpacing, newSpacing, cast);
        labels = LabelResampler.Resample(labels, oldSpacing, newSpacing);
        if (options.Modality == Modality.Mr)
        {
            intensities = CentreCrop.CropOrPad(intensities, options.Size, intensities.Data.Min());
            labels = CentreCrop.CropOrPad(labels, options.Size, 0);
        }

        int[] shape = [intensities.Width, intensities.Height, intensities.Depth];
        var labelType = labels.Data.Max() <= byte.MaxValue ? NiftiDataType.UInt8 : NiftiDataType.Int16;
        return new PreparedScan(
            OutputGeometry.Create(image, shape, newSpacing, NiftiDataType.Float32, intensities.Data),
            OutputGeometry.Create(label, shape, newSpacing, labelType, Array.ConvertAll(labels.Data, v => (double)v)),
            labels);
    }

    /// <summary>The spacing the options ask for, or the preset's rule when they give none.</summary>
    public static double[] TargetSpacing(PreprocessOptions options, IReadOnlyList<double> oldSpacing, int croppedWidth)
    {
        if (options.Spacing is { } given)
        {
            if (given.Count != 3 || given.Any(s => !(s > 0 && double.IsFinite(s))))
                throw new ArgumentException("spacing needs three positive numbers (x, y, z)");
            return [.. given];
        }
        if (options.Modality == Modality.Mr) return [.. PreprocessOptions.Mr.Spacing!];
        // SABS: SPA_FAC = (512 − 2·32) / 256 on both in-plane axes, z unchanged.
        var factor = (double)croppedWidth / options.Size;
        return [oldSpacing[0] * factor, oldSpacing[1] * factor, oldSpacing[2]];
    }

    /// <summary>Writes image_&lt;pid&gt;.nii.gz and label_&lt;pid&gt;.nii.gz, each to a temporary name first and then renamed.</summary>
    public static void Write(string directory, int pid, PreparedScan scan)
    {
        AtomicWrite(Path.Combine(directory, $"image_{pid}.nii.gz"), scan.Image);
        AtomicWrite(Path.Combine(directory, $"label_{pid}.nii.gz"), scan.Label);
    }

    // An interrupted run must not leave a truncated file under a name the loader picks up; the temporary name
    // still ends in .nii.gz because the writer compresses by extension.
    private static void AtomicWrite(string finalPath, NiftiImage image)
    {
        var directory = Path.GetDirectoryName(finalPath)!;
        var tempPath = Path.Combine(directory, $".{Path.GetFileName(finalPath)}.{Guid.NewGuid():N}.partial.nii.gz");
        try
        {
            Nifti.Write(tempPath, image);
            File.Move(tempPath, finalPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(tempPath)) File.Delete(tempPath);
        }
    }

    private static (int, int, int) Dimensions(NiftiImage image)
    {
        var shape = image.Shape;
        // A trailing axis of size 1 (a 4D file with one time point) holds the same voxels as 3D.
        if (shape.Length < 3 || shape.Skip(3).Any(n => n != 1))
            throw new DataFormatException(image.Source, $"expected a 3D volume, got shape {string.Join("x", shape)}");
        return (shape[0], shape[1], shape[2]);
    }

    /// <summary>An integer image SimpleITK would read with an integer pixel type (no rescaling to float).</summary>
    private static bool IsInteger(NiftiImage image)
    {
        var (slope, inter) = NiftiScaling.Get(image.Header);
        return image.DataType is not (NiftiDataType.Float32 or NiftiDataType.Float64) && slope == 1 && inter == 0;
    }

    private static int[] ReadLabels(NiftiImage label, LabelMapping? map)
    {
        var values = label.GetData();
        var ids = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v != Math.Floor(v) || v < 0 || v > short.MaxValue)
                throw new DataFormatException(label.Source, $"label value {v} at voxel {i} is not an integer in 0..{short.MaxValue}");
            ids[i] = (int)v;
        }
        return map == null ? ids : map.Apply(ids);
    }
}
