using System.Diagnostics;

namespace IlgpuSeg.Engine;

/// <summary>The op families a training step's time is broken down into (the same grouping tools/bench_step.py applies to PyTorch's profiler).</summary>
public enum OpFamily
{
    Convolution,
    BatchNorm,
    /// <summary>Unary and binary elementwise ops, activations included.</summary>
    Elementwise,
    PoolingResize,
    /// <summary>Matmul, softmax, reductions and index selection: in the few-shot models only the prototype head uses them.</summary>
    PrototypeHead,
    Loss,
    Optimizer,
    /// <summary>Tensor allocation (zero-filled on the CPU), copies, concatenation.</summary>
    AllocationCopy,
}

/// <summary>
/// Wall time per op family on the calling thread, for the step benchmark. Off by default; when off a scope costs one
/// static bool check. An op's time goes to the outermost family scope open on the thread (ops an op calls internally
/// belong to it), except allocation, which is always timed on its own and subtracted from the op around it.
/// </summary>
public static class OpProfiler
{
    private static readonly long[] Ticks = new long[Enum.GetValues<OpFamily>().Length];
    private static readonly long[] Calls = new long[Ticks.Length];
    private static bool _enabled;
    [ThreadStatic] private static bool _inScope;
    [ThreadStatic] private static long _excludedTicks;

    public static bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Times the enclosed op as <paramref name="family"/> unless another family scope is already open on this thread.</summary>
    public static FamilyScope Scope(OpFamily family)
    {
        if (!_enabled || _inScope) return default;
        _inScope = true;
        _excludedTicks = 0;
        return new FamilyScope(family, Stopwatch.GetTimestamp(), exclusive: false);
    }

    /// <summary>Times an allocation, also inside another op's scope (whose time then excludes it).</summary>
    public static FamilyScope Allocation()
    {
        if (!_enabled) return default;
        return new FamilyScope(OpFamily.AllocationCopy, Stopwatch.GetTimestamp(), exclusive: true);
    }

    public static void Reset()
    {
        Array.Clear(Ticks);
        Array.Clear(Calls);
    }

    /// <summary>Accumulated time per family since the last <see cref="Reset"/>.</summary>
    public static IReadOnlyDictionary<OpFamily, TimeSpan> Times() =>
        Enum.GetValues<OpFamily>().ToDictionary(f => f, f => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref Ticks[(int)f])));

    /// <summary>Number of timed scopes per family since the last <see cref="Reset"/>.</summary>
    public static IReadOnlyDictionary<OpFamily, long> CallCounts() =>
        Enum.GetValues<OpFamily>().ToDictionary(f => f, f => Interlocked.Read(ref Calls[(int)f]));

    /// <summary>An open family scope; default (inactive) when the profiler is off or the scope is nested.</summary>
    public readonly struct FamilyScope : IDisposable
    {
        private readonly OpFamily _family;
        private readonly long _start;
        private readonly bool _exclusive;

        internal FamilyScope(OpFamily family, long start, bool exclusive) => (_family, _start, _exclusive) = (family, start, exclusive);

        public void Dispose()
        {
            if (_start == 0) return;
            long elapsed = Stopwatch.GetTimestamp() - _start;
            if (_exclusive)
            {
                if (_inScope) _excludedTicks += elapsed;
            }
            else
            {
                elapsed -= _excludedTicks;
                _inScope = false;
            }
            Interlocked.Add(ref Ticks[(int)_family], elapsed);
            Interlocked.Increment(ref Calls[(int)_family]);
        }
    }
}
