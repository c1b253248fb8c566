namespace IlgpuSeg.Engine;

public enum AcceleratorType
{
    /// <summary>The C# SIMD backend, the reference.</summary>
    Cpu,
    /// <summary>ILGPU's CPU accelerator running the device kernels.</summary>
    IlgpuCpu,
    OpenCL,
    Cuda,
}

/// <summary>
/// One compute device, in ILGPU's shape: it allocates buffers, owns a default stream, and runs the
/// kernels behind every engine op. Models never talk to a device any other way, so a new backend is a new
/// subclass with its own <see cref="IKernels"/>.
/// </summary>
public abstract class Accelerator : IDisposable
{
    protected Accelerator(Context context, AcceleratorType type, string name)
    {
        Context = context;
        AcceleratorType = type;
        Name = name;
    }

    public Context Context { get; }

    public AcceleratorType AcceleratorType { get; }

    public string Name { get; }

    public abstract AcceleratorStream DefaultStream { get; }

    public abstract IKernels Kernels { get; }

    public abstract bool SupportsFloat64 { get; }

    /// <summary>
    /// A buffer of <paramref name="length"/> elements with undefined contents; inside a <see cref="TensorScope"/> it
    /// comes from the pool and belongs to the scope.
    /// </summary>
    public MemoryBuffer<T> Allocate<T>(int length) where T : unmanaged
    {
        var scope = TensorScope.Current;
        var buffer = Allocate<T>(length, pooled: scope != null);
        scope?.Add(buffer);
        return buffer;
    }

    /// <summary>A new buffer; <paramref name="pooled"/> when a scope will return it (the CPU allocates GC arrays otherwise).</summary>
    protected abstract MemoryBuffer<T> Allocate<T>(int length, bool pooled) where T : unmanaged;

    /// <summary>Bytes of pooled buffers handed out and not yet returned.</summary>
    public abstract long LiveBytes { get; }

    /// <summary>Bytes of returned buffers kept for reuse.</summary>
    public abstract long CachedBytes { get; }

    /// <summary>Frees every cached buffer.</summary>
    public abstract void ReleaseCached();

    /// <summary>A scoped buffer kept past its outermost scope: the GC owns it from now on.</summary>
    internal abstract void Detach(MemoryBuffer buffer);

    public MemoryBuffer Allocate(DType dtype, int length) =>
        dtype == DType.Float32 ? Allocate<float>(length) : Allocate<double>(length);

    /// <summary>Waits until every launch queued on this accelerator has finished.</summary>
    public void Synchronize() => DefaultStream.Synchronize();

    public override string ToString() => $"{AcceleratorType}: {Name}";

    public virtual void Dispose()
    {
    }
}
