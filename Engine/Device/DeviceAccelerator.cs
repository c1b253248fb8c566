using System.Numerics;
using System.Runtime.InteropServices;

namespace IlgpuSeg.Engine;

/// <summary>How the shared kernels are tiled on one device (the defines each program is built with).</summary>
internal sealed record DeviceTuning(int ReductionGroup, bool GemmLocal, int GemmGroup, int GemmTileM, int GemmTileN, int GroupSize)
{
    /// <summary>CPU devices (PoCL): register tiles per work-item; local-memory tiles are ~30× slower there.</summary>
    public static readonly DeviceTuning Cpu = new(64, false, 8, 4, 8, 64);

    /// <summary>GPUs: 64×64 blocks staged in local memory by 16×16 work-groups.</summary>
    public static readonly DeviceTuning Gpu = new(256, true, 16, 4, 4, 256);

    public IEnumerable<string> Defines()
    {
        yield return $"RWG {ReductionGroup}";
        yield return $"GEMM_TM {GemmTileM}";
        yield return $"GEMM_TN {GemmTileN}";
        if (GemmLocal)
        {
            yield return "GEMM_LOCAL 1";
            yield return $"GEMM_WG {GemmGroup}";
        }
    }
}

/// <summary>
/// What OpenCL and CUDA accelerators share: a caching allocator, typed buffers and the kernels
/// (<see cref="DeviceKernels"/>), over a few backend primitives (raw allocation, copies, launches).
/// Launches are queued on one in-order stream without waiting; only reads to the host wait.
/// </summary>
public abstract class DeviceAccelerator : Accelerator
{
    private readonly Dictionary<long, Stack<ulong>> _free = new();
    private readonly DeviceStream _stream;

    protected DeviceAccelerator(Context context, AcceleratorType type, string name)
        : base(context, type, name)
    {
        _stream = new DeviceStream(this);
        Kernels = new DeviceKernels(this);
    }

    public override AcceleratorStream DefaultStream => _stream;

    public override IKernels Kernels { get; }

    /// <summary>Device memory in bytes.</summary>
    public abstract long MemorySize { get; }

    internal abstract DeviceTuning Tuning { get; }

    public override MemoryBuffer<T> Allocate<T>(int length) => new DeviceMemoryBuffer<T>(this, length);

    // ---- backend primitives ----

    /// <summary>A new device allocation; throws <see cref="OutOfMemoryException"/> when the device is full.</summary>
    protected abstract ulong AllocRaw(long bytes);

    protected abstract void FreeRaw(ulong handle);

    /// <summary>Queues a host-to-device copy that has consumed <paramref name="source"/> when it returns.</summary>
    internal abstract unsafe void Write(ulong handle, long byteOffset, void* source, long bytes);

    /// <summary>Waits for the queue, then copies device memory to the host.</summary>
    internal abstract unsafe void Read(ulong handle, long byteOffset, void* destination, long bytes);

    /// <summary>A temporary device copy of host integers (indices, targets) for the next launches.</summary>
    internal abstract ulong UploadInts(ReadOnlySpan<int> values);

    /// <summary>Gives back an <see cref="UploadInts"/> buffer once its launches are queued.</summary>
    internal abstract void ReleaseUpload(ulong handle, int count);

    /// <summary>Queues a kernel of the program for <paramref name="dtype"/>; sizes in work-items per dimension.</summary>
    internal abstract void Launch(DType dtype, string kernel, KernelArgs args, (int X, int Y, int Z) global, (int X, int Y, int Z) local);

    /// <summary>Waits until everything queued has finished.</summary>
    internal abstract void Finish();

    // ---- caching allocator: a free list per size bucket; a returned buffer is reused by later launches,
    // which the in-order queue runs after every launch that used it before. ----

    /// <summary>Sizes round up to a quarter octave, so similar requests share buffers (at most 25% waste).</summary>
    internal static long Bucket(long bytes)
    {
        bytes = Math.Max(bytes, 256);
        long step = Math.Max(256, (long)BitOperations.RoundUpToPowerOf2((ulong)bytes) / 8);
        return (bytes + step - 1) / step * step;
    }

    internal ulong Rent(long bytes)
    {
        bytes = Bucket(bytes);
        lock (_free)
            if (_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
                return stack.Pop();
        ulong handle;
        try
        {
            handle = AllocRaw(bytes);
        }
        catch (OutOfMemoryException)
        {
            // Dead tensors hand their buffers back in finalizers: collect them, drop the cache, retry once.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            ReleaseCached();
            handle = AllocRaw(bytes);
        }
        GC.AddMemoryPressure(bytes);
        return handle;
    }

    internal void Return(ulong handle, long bytes)
    {
        bytes = Bucket(bytes);
        lock (_free)
        {
            if (!_free.TryGetValue(bytes, out var stack)) _free[bytes] = stack = new Stack<ulong>();
            stack.Push(handle);
        }
    }

    /// <summary>Frees every cached buffer (after waiting for the queue, since launches may still use them).</summary>
    public void ReleaseCached()
    {
        Finish();
        lock (_free)
        {
            foreach (var (bytes, stack) in _free)
                while (stack.Count > 0)
                {
                    FreeRaw(stack.Pop());
                    GC.RemoveMemoryPressure(bytes);
                }
            _free.Clear();
        }
    }

    private sealed class DeviceStream(DeviceAccelerator accelerator) : AcceleratorStream(accelerator)
    {
        public override void Synchronize() => accelerator.Finish();
    }
}

/// <summary>
/// A device buffer from the caching allocator. Tensors have no explicit lifetime, so a buffer goes back to
/// the free list when disposed or finalized; the allocator tells the GC how much device memory is held.
/// </summary>
public sealed class DeviceMemoryBuffer<T> : MemoryBuffer<T> where T : unmanaged
{
    private readonly DeviceAccelerator _accelerator;
    private int _returned;

    internal DeviceMemoryBuffer(DeviceAccelerator accelerator, int length)
        : base(accelerator, length)
    {
        _accelerator = accelerator;
        Bytes = (long)length * Marshal.SizeOf<T>();
        Handle = accelerator.Rent(Bytes);
    }

    /// <summary>The cl_mem or CUdeviceptr, as 64 bits.</summary>
    internal ulong Handle { get; }

    internal long Bytes { get; }

    public override unsafe void CopyFromCPU(ReadOnlySpan<T> source, int offset = 0)
    {
        CheckRange(offset, source.Length);
        fixed (T* p = source) _accelerator.Write(Handle, (long)offset * sizeof(T), p, (long)source.Length * sizeof(T));
    }

    public override unsafe void CopyToCPU(Span<T> destination, int offset = 0)
    {
        CheckRange(offset, destination.Length);
        fixed (T* p = destination) _accelerator.Read(Handle, (long)offset * sizeof(T), p, (long)destination.Length * sizeof(T));
    }

    private void CheckRange(int offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"copy of {count} elements at {offset} outside a buffer of {Length}");
    }

    public override void Dispose()
    {
        GiveBack();
        GC.SuppressFinalize(this);
    }

    ~DeviceMemoryBuffer() => GiveBack();

    private void GiveBack()
    {
        if (Interlocked.Exchange(ref _returned, 1) != 0) return;
        GC.RemoveMemoryPressure(DeviceAccelerator.Bucket(Bytes));
        _accelerator.Return(Handle, Bytes);
    }
}
