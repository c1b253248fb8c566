namespace IlgpuSeg.Engine;

/// <summary>
/// The CPU backend: buffers are managed arrays, kernels are C# (SIMD where it pays), launches run
/// synchronously on up to <see cref="Threads"/> workers. It is the reference for every other backend.
/// </summary>
public sealed class CpuAccelerator : Accelerator
{
    private readonly CpuStream _stream;
    // Exact-length free lists per element type: a training step asks for the same lengths every iteration.
    private readonly Dictionary<(Type, int), Stack<Array>> _free = [];
    private long _liveBytes, _cachedBytes;

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

    /// <summary>
    /// Fills every new CPU buffer with NaN, so that a kernel reading its output before writing it changes results
    /// (tests compare runs with it on and off). Starts on when the environment sets ILGPUSEG_POISON_BUFFERS=1.
    /// </summary>
    public static bool PoisonBuffers { get; set; } = Environment.GetEnvironmentVariable("ILGPUSEG_POISON_BUFFERS") == "1";

    public override long LiveBytes => Interlocked.Read(ref _liveBytes);

    public override long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>Pooled buffers come from the free lists; others are GC arrays. Neither is zero-filled.</summary>
    protected override MemoryBuffer<T> Allocate<T>(int length, bool pooled)
    {
        T[]? array = null;
        if (pooled)
            lock (_free)
                if (_free.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
                {
                    array = (T[])stack.Pop();
                    _cachedBytes -= Buffer.ByteLength(array);
                }
        array ??= GC.AllocateUninitializedArray<T>(length);
        if (PoisonBuffers) Poison(array);
        if (pooled) Interlocked.Add(ref _liveBytes, Buffer.ByteLength(array));
        return new CpuMemoryBuffer<T>(this, array, pooled);
    }

    private static void Poison<T>(T[] array)
    {
        if (array is float[] f) Array.Fill(f, float.NaN);
        else if (array is double[] d) Array.Fill(d, double.NaN);
    }

    internal void Return(Array array, bool pooled)
    {
        int bytes = Buffer.ByteLength(array);
        if (pooled) Interlocked.Add(ref _liveBytes, -bytes);
        lock (_free)
        {
            var key = (array.GetType().GetElementType()!, array.Length);
            if (!_free.TryGetValue(key, out var stack)) _free[key] = stack = new Stack<Array>();
            stack.Push(array);
            _cachedBytes += bytes;
        }
    }

    internal override void Detach(MemoryBuffer buffer)
    {
        if (buffer.Pooled)
        {
            buffer.Pooled = false;
            Interlocked.Add(ref _liveBytes, -buffer.Bytes);
        }
    }

    public override void ReleaseCached()
    {
        lock (_free)
        {
            _free.Clear();
            _cachedBytes = 0;
        }
    }

    private sealed class CpuStream(Accelerator accelerator) : AcceleratorStream(accelerator)
    {
        public override void Synchronize()
        {
        }
    }
}

/// <summary>A CPU buffer: a managed array, from the pool inside a tensor scope and GC-owned otherwise.</summary>
public sealed class CpuMemoryBuffer<T> : MemoryBuffer<T> where T : unmanaged
{
    private readonly CpuAccelerator _accelerator;

    internal CpuMemoryBuffer(CpuAccelerator accelerator, T[] array, bool pooled)
        : base(accelerator, array.Length)
    {
        _accelerator = accelerator;
        Array = array;
        Pooled = pooled;
    }

    public T[] Array { get; }

    public override void CopyFromCPU(ReadOnlySpan<T> source, int offset = 0) => source.CopyTo(Array.AsSpan(offset));

    public override void CopyToCPU(Span<T> destination, int offset = 0) => Array.AsSpan(offset, destination.Length).CopyTo(destination);

    protected override void Release() => _accelerator.Return(Array, Pooled);
}
