namespace IlgpuSeg.Data;

/// <summary>
/// The 348-byte NIfTI-1 header, field by field, in native types (byte order already resolved).
/// Legacy ANALYZE text fields are kept as raw bytes so that a copied header is written back unchanged.
/// Fields are public and mutable; <see cref="NiftiImage.WithData(NiftiDataType, ReadOnlySpan{double})"/>
/// is the safe way to change the datatype or data.
/// </summary>
public sealed class NiftiHeader
{
    public const int Size = 348;
    /// <summary>The smallest vox_offset of a single-file (.nii) image: header plus the 4-byte extension flag.</summary>
    public const int MinSingleFileVoxOffset = 352;

    public byte[] DataTypeText { get; set; } = new byte[10];
    public byte[] DbName { get; set; } = new byte[18];
    public int Extents { get; set; }
    public short SessionError { get; set; }
    public byte Regular { get; set; }
    public byte DimInfo { get; set; }
    /// <summary>dim[0] is the number of dimensions (1..7); dim[1..dim[0]] are the sizes.</summary>
    public short[] Dim { get; set; } = [3, 1, 1, 1, 1, 1, 1, 1];
    public float IntentP1 { get; set; }
    public float IntentP2 { get; set; }
    public float IntentP3 { get; set; }
    public short IntentCode { get; set; }
    /// <summary>The raw datatype code; see <see cref="NiftiDataType"/> for the supported ones.</summary>
    public short DataTypeCode { get; set; } = (short)NiftiDataType.Float32;
    public short BitPix { get; set; } = 32;
    public short SliceStart { get; set; }
    /// <summary>pixdim[0] is qfac (±1); pixdim[1..] are the voxel sizes.</summary>
    public float[] PixDim { get; set; } = [1, 1, 1, 1, 1, 1, 1, 1];
    public float VoxOffset { get; set; } = MinSingleFileVoxOffset;
    public float SclSlope { get; set; }
    public float SclInter { get; set; }
    public short SliceEnd { get; set; }
    public byte SliceCode { get; set; }
    public byte XyztUnits { get; set; }
    public float CalMax { get; set; }
    public float CalMin { get; set; }
    public float SliceDuration { get; set; }
    public float TOffset { get; set; }
    public int GlMax { get; set; }
    public int GlMin { get; set; }
    public byte[] Descrip { get; set; } = new byte[80];
    public byte[] AuxFile { get; set; } = new byte[24];
    public short QFormCode { get; set; }
    public short SFormCode { get; set; }
    public float QuaternB { get; set; }
    public float QuaternC { get; set; }
    public float QuaternD { get; set; }
    public float QOffsetX { get; set; }
    public float QOffsetY { get; set; }
    public float QOffsetZ { get; set; }
    public float[] SRowX { get; set; } = new float[4];
    public float[] SRowY { get; set; } = new float[4];
    public float[] SRowZ { get; set; } = new float[4];
    public byte[] IntentName { get; set; } = new byte[16];
    /// <summary>"n+1\0" for a single .nii file.</summary>
    public byte[] Magic { get; set; } = "n+1\0"u8.ToArray();

    public int NDim => Dim[0];

    /// <summary>The image shape, dim[1..dim[0]]. Only meaningful for a validated header.</summary>
    public int[] Shape => Dim.Skip(1).Take(NDim).Select(d => (int)d).ToArray();

    public NiftiDataType DataType => (NiftiDataType)DataTypeCode;

    /// <summary>The description text (descrip), up to the first NUL.</summary>
    public string Description => System.Text.Encoding.ASCII.GetString(Descrip).Split('\0')[0];

    public NiftiHeader Clone()
    {
        var copy = (NiftiHeader)MemberwiseClone();
        copy.DataTypeText = (byte[])DataTypeText.Clone();
        copy.DbName = (byte[])DbName.Clone();
        copy.Dim = (short[])Dim.Clone();
        copy.PixDim = (float[])PixDim.Clone();
        copy.Descrip = (byte[])Descrip.Clone();
        copy.AuxFile = (byte[])AuxFile.Clone();
        copy.SRowX = (float[])SRowX.Clone();
        copy.SRowY = (float[])SRowY.Clone();
        copy.SRowZ = (float[])SRowZ.Clone();
        copy.IntentName = (byte[])IntentName.Clone();
        copy.Magic = (byte[])Magic.Clone();
        return copy;
    }
}
