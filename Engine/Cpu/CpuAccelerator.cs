namespace IlgpuSeg.Engine;

/// <summary>
/// The CPU backend: buffers are managed arrays, kernels are C# (SIMD where it pays), launches run
/// synchronously on up to <see cref="Threads"/> workers. It is the reference for every other backend.
/// </summary>
public sealed class CpuAccelerator : Accelerator
{
    private readonly CpuStream _stream;

    internal CpuAccelerator(Context context, int threads)
        : base(context, AcceleratorType.Cpu, $"CPU ({threads} threads)")
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "CPU accelerator needs at least one thread");
        Threads = threads;
        _stream = new CpuStream(this);
        Kernels = new CpuKernels(this);
    }

    /// <summary>Maximum worker threads. Work is split by problem size, so results never depend on it.</summary>
    public int Threads { get; }

    public override AcceleratorStream DefaultStream => _stream;

    public override IKernels Kernels { get; }

    public override bool SupportsFloat64 => true;

    public override MemoryBuffer<T> Allocate<T>(int length) => new CpuMemoryBuffer<T>(this, length);

    private sealed class CpuStream(Accelerator accelerator) : AcceleratorStream(accelerator)
    {
        public override void Synchronize()
        {
        }
    }
}

/// <summary>A CPU buffer: a managed array, so the GC owns its lifetime.</summary>
public sealed class CpuMemoryBuffer<T> : MemoryBuffer<T> where T : unmanaged
{
    internal CpuMemoryBuffer(CpuAccelerator accelerator, int length)
        : base(accelerator, length) => Array = new T[length];

    public T[] Array { get; }

    public override void CopyFromCPU(ReadOnlySpan<T> source, int offset = 0) => source.CopyTo(Array.AsSpan(offset));

    public override void CopyToCPU(Span<T> destination, int offset = 0) => Array.AsSpan(offset, destination.Length).CopyTo(destination);

    public override void Dispose()
    {
    }
}
