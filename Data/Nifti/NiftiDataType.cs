namespace IlgpuSeg.Data;

/// <summary>The NIfTI-1 datatype codes this reader supports (header field <c>datatype</c>).</summary>
public enum NiftiDataType : short
{
    UInt8 = 2,
    Int16 = 4,
    Int32 = 8,
    Float32 = 16,
    Float64 = 64,
    Int8 = 256,
    UInt16 = 512,
    UInt32 = 768,
}

public static class NiftiDataTypeExtensions
{
    public static bool IsSupported(this NiftiDataType type) => Enum.IsDefined(type);

    public static int SizeInBytes(this NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 => 4,
        NiftiDataType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), $"unsupported NIfTI datatype {(short)type}"),
    };

    /// <summary>The numpy-style name, e.g. "int16", as nibabel reports it.</summary>
    public static string Name(this NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 => "uint8",
        NiftiDataType.Int8 => "int8",
        NiftiDataType.Int16 => "int16",
        NiftiDataType.UInt16 => "uint16",
        NiftiDataType.Int32 => "int32",
        NiftiDataType.UInt32 => "uint32",
        NiftiDataType.Float32 => "float32",
        NiftiDataType.Float64 => "float64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), $"unsupported NIfTI datatype {(short)type}"),
    };

    /// <summary>Names of the datatype codes the standard defines but this reader rejects, for clear errors.</summary>
    public static string? UnsupportedName(short code) => code switch
    {
        0 => "unknown (0)",
        1 => "binary (1)",
        32 => "complex64 (32)",
        128 => "rgb24 (128)",
        1024 => "int64 (1024)",
        1280 => "uint64 (1280)",
        1536 => "float128 (1536)",
        1792 => "complex128 (1792)",
        2048 => "complex256 (2048)",
        2304 => "rgba32 (2304)",
        _ => null,
    };
}
