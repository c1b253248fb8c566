namespace IlgpuSeg.Engine;

/// <summary>
/// A linear allocation on one accelerator; tensors are strided views into one. Disposing it returns its memory
/// to the accelerator's pool and marks it released, so tensors that still refer to it throw instead of reading
/// recycled data.
/// </summary>
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

    public long Bytes => (long)Length * DType.SizeInBytes();

    /// <summary>Index of the buffer's first element in its memory (CPU buffers skip to a 64-byte boundary); a new tensor's offset.</summary>
    public virtual int Start => 0;

    /// <summary>True once the memory went back to the pool.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>The tensor scope that returns this buffer when it ends, or null when the GC owns it.</summary>
    internal TensorScope? Owner { get; set; }

    /// <summary>Whether the buffer counts in its accelerator's <see cref="Accelerator.LiveBytes"/> until released.</summary>
    internal bool Pooled { get; set; }

    public void Dispose()
    {
        if (IsReleased) return;
        IsReleased = true;
        Release();
    }

    /// <summary>Gives the memory back to the accelerator's pool (called once).</summary>
    protected abstract void Release();
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
