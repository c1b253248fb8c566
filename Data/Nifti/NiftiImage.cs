namespace IlgpuSeg.Data;

/// <summary>
/// A NIfTI-1 image: its header and its voxel bytes exactly as stored.
/// Data layout: voxel (x, y, z, ...) is at index x + nx·(y + ny·(z + ...)), x fastest (Fortran order), as on disk.
/// Values are scaled by scl_slope/scl_inter when the header asks for it (see <see cref="NiftiScaling"/>).
/// </summary>
public sealed class NiftiImage
{
    public NiftiImage(NiftiHeader header, byte[] rawBytes, bool bigEndian, string source)
    {
        var expected = NiftiHeaderValidation.Validate(header, source);
        if (rawBytes.Length != expected)
            throw new ArgumentException($"{source}: header describes {expected} data bytes, got {rawBytes.Length}");
        Header = header;
        RawBytes = rawBytes;
        BigEndian = bigEndian;
        Source = source;
    }

    /// <summary>The header as read (vox_offset included). Change the data through <see cref="WithData(NiftiDataType, ReadOnlySpan{double})"/>.</summary>
    public NiftiHeader Header { get; }

    /// <summary>The voxel bytes as stored, in the byte order given by <see cref="BigEndian"/>.</summary>
    public byte[] RawBytes { get; }

    public bool BigEndian { get; }

    /// <summary>The file this image was read from, or a description for images made in memory.</summary>
    public string Source { get; }

    public int[] Shape => Header.Shape;

    public long VoxelCount => RawBytes.LongLength / DataType.SizeInBytes();

    public NiftiDataType DataType => Header.DataType;

    /// <summary>Voxel sizes per axis (pixdim), in the header's units (usually mm).</summary>
    public double[] Spacing => NiftiGeometry.Spacing(Header);

    /// <summary>Voxel-to-world (RAS+ mm) affine, chosen as nibabel does: sform, else qform, else pixdim.</summary>
    public double[,] Affine => NiftiGeometry.BestAffine(Header, Source);

    public AffineSource AffineSource => NiftiGeometry.BestSource(Header);

    /// <summary>Axis codes of the affine, e.g. "LAS".</summary>
    public string Orientation => OrientationCodes.FromAffine(Affine);

    /// <summary>Scaled values, x fastest.</summary>
    public double[] GetData()
    {
        var (slope, inter) = NiftiScaling.Get(Header);
        return NiftiVoxels.ToDouble(RawBytes, DataType, BigEndian, slope, inter);
    }

    /// <summary>Scaled values as float32 (scaled in double, then rounded), x fastest.</summary>
    public float[] GetDataFloat() => Array.ConvertAll(GetData(), v => (float)v);

    /// <summary>Stored values without scaling, x fastest.</summary>
    public double[] GetRawData() => NiftiVoxels.ToDouble(RawBytes, DataType, BigEndian);

    /// <summary>
    /// A new image on the same grid (header copied: geometry, units, description) holding these values as
    /// <paramref name="type"/>, with no scaling. Integer types need whole numbers in range.
    /// </summary>
    public NiftiImage WithData(NiftiDataType type, ReadOnlySpan<double> values)
    {
        if (values.Length != VoxelCount)
            throw new ArgumentException($"{values.Length} values for an image of {VoxelCount} voxels");
        var header = Header.Clone();
        header.DataTypeCode = (short)type;
        header.BitPix = (short)(8 * type.SizeInBytes());
        header.SclSlope = 0;
        header.SclInter = 0;
        header.CalMin = 0; // the old display range says nothing about the new values
        header.CalMax = 0;
        return new NiftiImage(header, NiftiVoxels.Encode(values, type), bigEndian: false, Source + " (new data)");
    }

    /// <summary>The float32 twin of <see cref="WithData(NiftiDataType, ReadOnlySpan{double})"/>.</summary>
    public NiftiImage WithData(NiftiDataType type, ReadOnlySpan<float> values)
    {
        var doubles = new double[values.Length];
        for (var i = 0; i < doubles.Length; i++) doubles[i] = values[i];
        return WithData(type, doubles);
    }

    /// <summary>
    /// A new image with a default header: the given shape and spacing, no sform or qform (so the affine is the
    /// pixdim diagonal), values stored as <paramref name="type"/>.
    /// </summary>
    public static NiftiImage Create(int[] shape, double[] spacing, NiftiDataType type, ReadOnlySpan<double> values)
    {
        if (shape.Length is < 1 or > 7 || spacing.Length != shape.Length)
            throw new ArgumentException("shape needs 1 to 7 sizes and one spacing per axis");
        var header = new NiftiHeader { DataTypeCode = (short)type, BitPix = (short)(8 * type.SizeInBytes()) };
        header.Dim[0] = (short)shape.Length;
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] is < 1 or > short.MaxValue) throw new ArgumentException($"shape[{i}] = {shape[i]} is outside 1..32767");
            header.Dim[i + 1] = (short)shape[i];
            header.PixDim[i + 1] = (float)spacing[i];
        }
        return new NiftiImage(header, NiftiVoxels.Encode(values, type), bigEndian: false, "<new image>");
    }
}
