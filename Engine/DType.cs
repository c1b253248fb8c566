namespace IlgpuSeg.Engine;

/// <summary>Element type of a tensor. The engine computes in float32; float64 exists for gradient checks.</summary>
public enum DType
{
    Float32,
    Float64,
}

public static class DTypeExtensions
{
    public static int SizeInBytes(this DType dtype) => dtype == DType.Float32 ? 4 : 8;

    public static string Name(this DType dtype) => dtype == DType.Float32 ? "float32" : "float64";
}
