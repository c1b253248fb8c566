namespace IlgpuSeg.Data;

/// <summary>Reading and writing single-file NIfTI-1 images (.nii and .nii.gz).</summary>
public static class Nifti
{
    /// <summary>Reads an image; a file the reader cannot use raises <see cref="DataFormatException"/> naming it.</summary>
    public static NiftiImage Read(string path)
    {
        RejectPairFile(path);
        return NiftiReader.Read(path);
    }

    /// <summary>Writes an image little-endian; gzip-compressed when the path ends in ".gz".</summary>
    public static void Write(string path, NiftiImage image)
    {
        RejectPairFile(path);
        NiftiWriter.Write(path, image);
    }

    /// <summary>Reads an image and its label map and checks that they are on grids of the same shape.</summary>
    public static (NiftiImage Image, NiftiImage Label) ReadPair(string imagePath, string labelPath)
    {
        var image = Read(imagePath);
        var label = Read(labelPath);
        CheckSameShape(image, label);
        return (image, label);
    }

    /// <summary>Throws, naming both files, when a label map's shape differs from its image's.</summary>
    public static void CheckSameShape(NiftiImage image, NiftiImage label)
    {
        if (!image.Shape.SequenceEqual(label.Shape))
            throw new DataFormatException(label.Source,
                $"label shape {string.Join("x", label.Shape)} does not match image {image.Source} shape {string.Join("x", image.Shape)}");
    }

    private static void RejectPairFile(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        if (name.EndsWith(".hdr", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".img", StringComparison.OrdinalIgnoreCase))
            throw new DataFormatException(path, ".hdr/.img pairs (NIfTI-1 pair or ANALYZE 7.5) are not supported; convert to a single .nii or .nii.gz file");
    }
}
