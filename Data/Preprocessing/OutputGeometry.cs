namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// The header of a preprocessed volume. Like the notebooks (SimpleITK's resample keeps origin and direction,
/// and <c>copy_spacing_ori</c> copies them onto the cropped array), the origin stays where it was: only the
/// voxel size changes. The border and centre crops therefore shift the world position of the voxels; the
/// SSL-ALPNet pipeline never uses world coordinates, and keeping the origin keeps our files comparable to theirs.
/// </summary>
public static class OutputGeometry
{
    public static NiftiImage Create(NiftiImage source, int[] shape, IReadOnlyList<double> newSpacing, NiftiDataType type, ReadOnlySpan<double> values)
    {
        var header = source.Header.Clone();
        var oldSpacing = source.Spacing;
        header.Dim = [3, (short)shape[0], (short)shape[1], (short)shape[2], 1, 1, 1, 1];
        for (var axis = 0; axis < 3; axis++)
        {
            header.PixDim[axis + 1] = (float)newSpacing[axis];
            // sform column = direction × spacing, so scaling it keeps the direction; column 3 (origin) is untouched.
            var scale = newSpacing[axis] / oldSpacing[axis];
            header.SRowX[axis] = (float)(header.SRowX[axis] * scale);
            header.SRowY[axis] = (float)(header.SRowY[axis] * scale);
            header.SRowZ[axis] = (float)(header.SRowZ[axis] * scale);
        }
        // The qform takes its spacing from pixdim; its quaternion and offset stay valid as they are.
        header.DataTypeCode = (short)type;
        header.BitPix = (short)(8 * type.SizeInBytes());
        header.SclSlope = 0;
        header.SclInter = 0;
        header.CalMin = 0;
        header.CalMax = 0;
        return new NiftiImage(header, NiftiVoxels.Encode(values, type), bigEndian: false, source.Source + " (preprocessed)");
    }
}
