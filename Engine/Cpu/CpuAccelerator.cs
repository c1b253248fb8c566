using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IlgpuSeg.Engine;

/// <summary>
/// The CPU backend: buffers are managed arrays, kernels are C# (SIMD where it pays), launches run
/// synchronously on up to <see cref="Threads"/> workers. It is the reference for every other backend.
/// </summary>
public sealed class CpuAccelerator : Accelerator
{
    private readonly CpuStream _stream;
    // Free lists per element type and array length. A request takes an array of its exact length, else the shortest
    // free one up to twice as long: late in backward the weight gradients (lengths no activation has) then reuse the
    // arrays of activations already released instead of adding their own to the footprint. Failing that, it takes the
    // shortest up to four times as long while live bytes stay under 4/5 of their highest: past a step's peak the
    // gradients of the lengths no freed activation fits (ResNet-101's 256 x 256 x 3 x 3, 2.4 MB, beside 8.4 MB
    // activations) would otherwise add arrays that sit idle through the next step's peak (40 MB of 950 at ResNet-101).
    private readonly Dictionary<(Type, int), Stack<Array>> _free = [];
    private long _liveBytes, _cachedBytes, _highestLiveBytes;

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

    /// <summary>
    /// Pooled buffers come from the free lists (an array may be longer than asked); others are GC arrays. Neither is
    /// zero-filled. Both start at the array's first 64-byte aligned element (<see cref="MemoryBuffer.Start"/>).
    /// </summary>
    protected override MemoryBuffer<T> Allocate<T>(int length, bool pooled)
    {
        T[] array;
        if (pooled)
            lock (_free)
            {
                if (TakeFree(typeof(T), length + Slack<T>(), Unsafe.SizeOf<T>()) is Stack<Array> stack)
                {
                    array = (T[])stack.Pop();
                    _cachedBytes -= Buffer.ByteLength(array);
                }
                else array = NewArray<T>(length);
                _highestLiveBytes = Math.Max(_highestLiveBytes, Interlocked.Add(ref _liveBytes, Buffer.ByteLength(array)));
            }
        else array = NewArray<T>(length);
        if (PoisonBuffers) Poison(array);
        return new CpuMemoryBuffer<T>(this, array, length, pooled);
    }

    // The free list of exactly `length`, else of the shortest length up to 2 × length, else (while live bytes with it
    // stay under 4/5 of their highest) up to 4 × length; null when none has an array.
    private Stack<Array>? TakeFree(Type type, int length, int elementBytes)
    {
        if (_free.TryGetValue((type, length), out var exact) && exact.Count > 0) return exact;
        Stack<Array>? best = null;
        int bestLength = int.MaxValue;
        long limit = 4L * length;
        foreach (var ((t, n), stack) in _free)
            if (t == type && n > length && n <= limit && n < bestLength && stack.Count > 0) (best, bestLength) = (stack, n);
        if (bestLength <= 2L * length) return best;
        return Interlocked.Read(ref _liveBytes) + (long)bestLength * elementBytes <= _highestLiveBytes / 5 * 4 ? best : null;
    }

    // Buffers and workspaces start on a 64-byte boundary: a managed array's elements start 8-byte aligned, and then every
    // AVX-512 load or store straddles two cache lines, 1.45× slower on data in L1 or L2 (measured on this project's
    // machine). Arrays get one cache line of slack and are pinned (never moved), so the aligned start stays aligned.

    /// <summary>Elements of slack an array carries to start its buffer on a 64-byte boundary.</summary>
    internal static int Slack<T>() where T : unmanaged => 64 / Unsafe.SizeOf<T>();

    /// <summary>A pinned array for a buffer of <paramref name="length"/> elements plus the slack.</summary>
    internal static T[] NewArray<T>(int length) where T : unmanaged => GC.AllocateUninitializedArray<T>(length + Slack<T>(), pinned: true);

    /// <summary>Index of the array's first element on a 64-byte boundary.</summary>
    internal static unsafe int AlignedStart<T>(T[] array) where T : unmanaged
    {
        if (array.Length == 0) return 0;
        long address = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (int)((64 - address % 64) % 64 / sizeof(T));
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
            var cpu = (ICpuArray)buffer;
            Interlocked.Add(ref _liveBytes, -cpu.ArrayBytes);
            // The GC owns it from now on: a longer array goes back to the free lists and the buffer gets one of its length.
            if (cpu.TrimmedArray() is Array longer) Return(longer, pooled: false);
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

internal interface ICpuArray
{
    /// <summary>Bytes of the whole array, which may be longer than the buffer.</summary>
    long ArrayBytes { get; }

    /// <summary>Moves the contents to an array just long enough (same start) and returns the longer one, or null if it fit.</summary>
    Array? TrimmedArray();
}

/// <summary>
/// A CPU buffer: <see cref="MemoryBuffer.Length"/> elements of a managed array from <see cref="Start"/>, its first element
/// on a 64-byte boundary (a pooled array may be longer), from the pool inside a tensor scope and GC-owned otherwise.
/// </summary>
public sealed class CpuMemoryBuffer<T> : MemoryBuffer<T>, ICpuArray where T : unmanaged
{
    private readonly CpuAccelerator _accelerator;

    internal CpuMemoryBuffer(CpuAccelerator accelerator, T[] array, int length, bool pooled)
        : base(accelerator, length)
    {
        _accelerator = accelerator;
        Array = array;
        Pooled = pooled;
        _start = CpuAccelerator.AlignedStart(array);
    }

    // Fixed at creation: tensors carry offsets from it.
    private readonly int _start;

    public override int Start => _start;

    /// <summary>The array; kernels index it through tensor offsets and strides, never past <see cref="MemoryBuffer.Length"/>.</summary>
    public T[] Array { get; private set; }

    long ICpuArray.ArrayBytes => Buffer.ByteLength(Array);

    Array? ICpuArray.TrimmedArray()
    {
        if (Array.Length <= Length + CpuAccelerator.Slack<T>()) return null;
        // Views hold offsets from _start, so the copy keeps it (and may lose the alignment: only for a kept tensor that got
        // a longer pooled array).
        var longer = Array;
        Array = GC.AllocateUninitializedArray<T>(_start + Length);
        longer.AsSpan(_start, Length).CopyTo(Array.AsSpan(_start));
        return longer;
    }

    public override void CopyFromCPU(ReadOnlySpan<T> source, int offset = 0) => source.CopyTo(Array.AsSpan(offset, _start + Length - offset));

    public override void CopyToCPU(Span<T> destination, int offset = 0) => Array.AsSpan(offset, destination.Length).CopyTo(destination);

    protected override void Release() => _accelerator.Return(Array, Pooled);
}
