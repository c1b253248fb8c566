namespace IlgpuSeg.Data;

/// <summary>
/// Checks a decoded header before any data is read, so that nothing is allocated from nonsense sizes.
/// </summary>
public static class NiftiHeaderValidation
{
    /// <summary>Validates dims, datatype, vox_offset and scaling; returns the size of the voxel data in bytes.</summary>
    public static long Validate(NiftiHeader h, string path)
    {
        var ndim = h.Dim[0];
        if (ndim < 1 || ndim > 7)
            throw new DataFormatException(path, $"bad dims: dim[0] is {ndim}, must be 1..7");

        var type = h.DataType;
        if (!type.IsSupported())
        {
            var known = NiftiDataTypeExtensions.UnsupportedName(h.DataTypeCode);
            var what = known != null ? $"datatype {known}" : $"unknown datatype code {h.DataTypeCode}";
            throw new DataFormatException(path, $"unsupported {what}; supported: uint8, int8, int16, uint16, int32, uint32, float32, float64");
        }

        // Multiply in long, stopping as soon as the size exceeds what a .NET array can hold.
        long bytes = type.SizeInBytes();
        for (var i = 1; i <= ndim; i++)
        {
            if (h.Dim[i] < 1)
                throw new DataFormatException(path, $"bad dims: dim[{i}] is {h.Dim[i]}, must be at least 1 (dim = [{string.Join(", ", h.Dim)}])");
            bytes *= h.Dim[i];
            if (bytes > Array.MaxLength)
                throw new DataFormatException(path, $"bad dims: [{string.Join(", ", h.Dim.Skip(1).Take(ndim))}] of {type.Name()} is over {Array.MaxLength} bytes, too large to load");
        }

        var offset = h.VoxOffset;
        if (!float.IsFinite(offset) || offset < NiftiHeader.MinSingleFileVoxOffset)
            throw new DataFormatException(path, $"bad vox_offset {offset}: a single-file NIfTI-1 image needs at least 352");
        if (offset > int.MaxValue)
            throw new DataFormatException(path, $"bad vox_offset {offset}: larger than any supported file");

        if (NiftiScaling.HasScaling(h) && !float.IsFinite(h.SclInter))
            throw new DataFormatException(path, $"scl_slope is {h.SclSlope} but scl_inter is {h.SclInter}, not a number");
        return bytes;
    }

    /// <summary>Where the data starts: vox_offset truncated to a whole byte, as nibabel does.</summary>
    public static long DataOffset(NiftiHeader h) => (long)h.VoxOffset;
}
