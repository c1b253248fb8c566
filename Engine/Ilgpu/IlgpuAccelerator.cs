using System.Collections.Concurrent;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using IlgpuDevice = ILGPU.Runtime.Accelerator;
using RawBuffer = ILGPU.Runtime.MemoryBuffer1D<byte, ILGPU.Stride1D.Dense>;

namespace IlgpuSeg.Engine;

/// <summary>
/// An ILGPU device (CUDA, OpenCL or ILGPU's CPU accelerator) behind the engine's <see cref="Accelerator"/>:
/// ILGPU owns the driver, module loading, launches and the stream; this class adds what ILGPU does not
/// have: a caching allocator and a per-process cache of loaded kernels. Launches are queued on ILGPU's
/// default stream without waiting; only reads to the host wait.
/// </summary>
public sealed class IlgpuAccelerator : Accelerator
{
    private readonly Dictionary<long, Stack<RawBuffer>> _free = new();
    // Rented buffers stay reachable from here: a dead tensor's ILGPU buffer would otherwise be finalized (freed)
    // in the same GC pass as the tensor that hands it back to the free list.
    private readonly HashSet<RawBuffer> _rented = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<System.Reflection.MethodInfo, Delegate> _kernels = new();
    private readonly IlgpuStream _stream;
    private long _liveBytes, _cachedBytes;

    internal IlgpuAccelerator(Context context, AcceleratorType type, IlgpuDevice device)
        : base(context, type, device.Name)
    {
        Device = device;
        _stream = new IlgpuStream(this);
        Kernels = new IlgpuKernels(this);
    }

    internal IlgpuDevice Device { get; }

    /// <summary>Threads per group of the row reductions on GPUs (a power of two) and of a GEMM block side (2 × 2 outputs each).</summary>
    internal const int GpuReductionGroup = 256, GpuGemmThreads = 16;

    /// <summary>ILGPU's CPU accelerator runs a thread per group thread: narrow groups keep it usable on a few cores.</summary>
    internal const int CpuReductionGroup = 16, CpuGemmThreads = 4;

    internal int ReductionGroup => AcceleratorType == AcceleratorType.IlgpuCpu ? CpuReductionGroup : GpuReductionGroup;

    internal int GemmThreads => AcceleratorType == AcceleratorType.IlgpuCpu ? CpuGemmThreads : GpuGemmThreads;

    public override AcceleratorStream DefaultStream => _stream;

    public override IKernels Kernels { get; }

    // CUDA and ILGPU's CPU always have fp64; an OpenCL device says so in its capabilities.
    public override bool SupportsFloat64 => Device.Capabilities is not ILGPU.Runtime.OpenCL.CLCapabilityContext cl || cl.Float64;

    /// <summary>Device memory in bytes.</summary>
    public long MemorySize => Device.MemorySize;

    /// <summary>Every device buffer comes from the caching allocator; a scope returns it early, the finaliser otherwise.</summary>
    protected override MemoryBuffer<T> Allocate<T>(int length, bool pooled) => new IlgpuMemoryBuffer<T>(this, length);

    public override long LiveBytes => Interlocked.Read(ref _liveBytes);

    public override long CachedBytes => Interlocked.Read(ref _cachedBytes);

    internal override void Detach(MemoryBuffer buffer)
    {
    }

    /// <summary>
    /// A kernel loaded (compiled by ILGPU) once per accelerator and kept: <paramref name="kernel"/> is the C#
    /// kernel method, <paramref name="load"/> the ILGPU loader call that turns it into a launcher.
    /// </summary>
    internal TLauncher Kernel<TLauncher>(Delegate kernel, Func<IlgpuDevice, TLauncher> load) where TLauncher : Delegate =>
        (TLauncher)_kernels.GetOrAdd(kernel.Method, _ => load(Device));

    // ---- caching allocator: a free list per size bucket; a returned buffer is reused by later launches,
    // which the in-order stream runs after every launch that used it before. ----

    /// <summary>Sizes round up to a quarter octave, so similar requests share buffers (at most 25% waste).</summary>
    internal static long Bucket(long bytes)
    {
        bytes = Math.Max(bytes, 256);
        long step = Math.Max(256, (long)BitOperations.RoundUpToPowerOf2((ulong)bytes) / 8);
        return (bytes + step - 1) / step * step;
    }

    internal RawBuffer Rent(long bytes)
    {
        bytes = Bucket(bytes);
        // Rented bytes count as memory pressure until returned, so the GC finalizes dead tensors in time.
        GC.AddMemoryPressure(bytes);
        lock (_free)
            if (_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
            {
                var reused = stack.Pop();
                _rented.Add(reused);
                _cachedBytes -= bytes;
                _liveBytes += bytes;
                return reused;
            }
        RawBuffer buffer;
        try
        {
            buffer = Device.Allocate1D<byte>(bytes);
        }
        catch (Exception e) when (e is OutOfMemoryException or ILGPU.Runtime.AcceleratorException)
        {
            // Dead tensors hand their buffers back in finalizers: collect them, drop the cache, retry once.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            ReleaseCached();
            buffer = Device.Allocate1D<byte>(bytes);
        }
        lock (_free)
        {
            _rented.Add(buffer);
            _liveBytes += bytes;
        }
        return buffer;
    }

    internal void Return(RawBuffer buffer)
    {
        GC.RemoveMemoryPressure(buffer.Length);
        lock (_free)
        {
            _rented.Remove(buffer);
            _liveBytes -= buffer.Length;
            _cachedBytes += buffer.Length;
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<RawBuffer>();
            stack.Push(buffer);
        }
    }

    /// <summary>A temporary device copy of host integers (indices, targets); give it back with <see cref="Return"/>.</summary>
    internal RawBuffer Upload(ReadOnlySpan<int> values)
    {
        var raw = Rent((long)values.Length * sizeof(int));
        ((ArrayView1D<int, Stride1D.Dense>)Typed<int>(raw, values.Length)).CopyFromCPU(Device.DefaultStream, values);
        return raw;
    }

    /// <summary>The first <paramref name="count"/> elements of a raw buffer as T.</summary>
    internal static unsafe ArrayView<T> Typed<T>(RawBuffer raw, long count) where T : unmanaged =>
        raw.View.AsContiguous().SubView(0, count * sizeof(T)).Cast<T>();

    /// <summary>Frees every cached buffer (after waiting for the stream, since launches may still use them).</summary>
    public override void ReleaseCached()
    {
        Device.Synchronize();
        lock (_free)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) stack.Pop().Dispose();
            _free.Clear();
            _cachedBytes = 0;
        }
    }

    public override void Dispose()
    {
        ReleaseCached();
        Device.Dispose();
    }

    private sealed class IlgpuStream(IlgpuAccelerator accelerator) : AcceleratorStream(accelerator)
    {
        public override void Synchronize() => accelerator.Device.Synchronize();
    }
}

/// <summary>
/// A typed view of a buffer from the caching allocator. It goes back to the free list when released (a tensor
/// scope ends) or, for buffers no scope owns, when finalized; the allocator tells the GC how much device memory is held.
/// </summary>
public sealed class IlgpuMemoryBuffer<T> : MemoryBuffer<T> where T : unmanaged
{
    private readonly IlgpuAccelerator _accelerator;
    private readonly RawBuffer _raw;
    private int _returned;

    internal unsafe IlgpuMemoryBuffer(IlgpuAccelerator accelerator, int length)
        : base(accelerator, length)
    {
        _accelerator = accelerator;
        _raw = accelerator.Rent((long)length * sizeof(T));
        View = IlgpuAccelerator.Typed<T>(_raw, length);
    }

    /// <summary>The elements as ILGPU sees them; kernels take this view and an element offset.</summary>
    internal ArrayView<T> View { get; }

    public override void CopyFromCPU(ReadOnlySpan<T> source, int offset = 0)
    {
        CheckRange(offset, source.Length);
        if (source.Length > 0) ((ArrayView1D<T, Stride1D.Dense>)View.SubView(offset, source.Length)).CopyFromCPU(_accelerator.Device.DefaultStream, source);
    }

    public override void CopyToCPU(Span<T> destination, int offset = 0)
    {
        CheckRange(offset, destination.Length);
        if (destination.Length > 0) ((ArrayView1D<T, Stride1D.Dense>)View.SubView(offset, destination.Length)).CopyToCPU(_accelerator.Device.DefaultStream, destination);
    }

    private void CheckRange(int offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"copy of {count} elements at {offset} outside a buffer of {Length}");
    }

    protected override void Release()
    {
        GiveBack();
        GC.SuppressFinalize(this);
    }

    ~IlgpuMemoryBuffer() => GiveBack();

    private void GiveBack()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0) _accelerator.Return(_raw);
    }
}
