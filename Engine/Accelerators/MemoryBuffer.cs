namespace IlgpuSeg.Engine;

/// <summary>A linear allocation on one accelerator; tensors are strided views into one.</summary>
public abstract class MemoryBuffer : IDisposable
{
    protected MemoryBuffer(Accelerator accelerator, int length, DType dtype)
    {
        Accelerator = accelerator;
        Length = length;
        DType = dtype;
    }

    public Accelerator Accelerator { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public DType DType { get; }

    public abstract void Dispose();
}

/// <summary>A typed buffer, as in ILGPU: copy to and from host memory; element type float or double.</summary>
public abstract class MemoryBuffer<T> : MemoryBuffer where T : unmanaged
{
    protected MemoryBuffer(Accelerator accelerator, int length)
        : base(accelerator, length, typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64
            : throw new NotSupportedException($"MemoryBuffer element type {typeof(T).Name}: only float and double"))
    {
    }

    public abstract void CopyFromCPU(ReadOnlySpan<T> source, int offset = 0);

    public abstract void CopyToCPU(Span<T> destination, int offset = 0);
}
