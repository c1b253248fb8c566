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

    public abstract MemoryBuffer<T> Allocate<T>(int length) where T : unmanaged;

    public MemoryBuffer Allocate(DType dtype, int length) =>
        dtype == DType.Float32 ? Allocate<float>(length) : Allocate<double>(length);

    /// <summary>Waits until every launch queued on this accelerator has finished.</summary>
    public void Synchronize() => DefaultStream.Synchronize();

    public override string ToString() => $"{AcceleratorType}: {Name}";

    public virtual void Dispose()
    {
    }
}
