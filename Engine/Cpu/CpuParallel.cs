using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace IlgpuSeg.Engine;

/// <summary>
/// Runs work split into chunks whose boundaries depend only on the problem size, so every chunk computes
/// the same bits whatever the thread count; threads only decide which worker runs which chunk.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Calls body(start, end) over [0, count) in chunks of <paramref name="grain"/> items.</summary>
    public static void For(int threads, int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        grain = Math.Max(1, grain);
        int chunks = (count + grain - 1) / grain;
        if (chunks == 1)
        {
            body(0, count);
            return;
        }
        Tasks(threads, chunks, c => body(c * grain, Math.Min(count, (c + 1) * grain)));
    }

    /// <summary>Calls task(i) for every i in [0, count), on up to <paramref name="threads"/> threads; returns when all are done.</summary>
    public static void Tasks(int threads, int count, Action<int> task)
    {
        if (count <= 0) return;
        if (threads > 1 && count > 1 && Team.TryRun(Math.Min(threads, count), count, task)) return;
        for (int i = 0; i < count; i++) task(i);
    }

    /// <summary>A grain that gives each chunk roughly <paramref name="workPerChunk"/> units of work.</summary>
    public static int Grain(long workPerItem, long workPerChunk = 1 << 15) =>
        (int)Math.Clamp(workPerChunk / Math.Max(1, workPerItem), 1, int.MaxValue);

    /// <summary>
    /// A fixed team of worker threads that spin for a short while after each parallel region before they sleep, as
    /// OpenMP runtimes do: a training step runs thousands of short regions, and waking a thread-pool thread for each
    /// cost more than the work of the small ones. One region runs at a time; a region started while another runs (a
    /// second caller thread, or a task of the running region) runs serially on its caller, which gives the same bits.
    /// </summary>
    private static class Team
    {
        // How long an idle worker keeps polling for the next region before it blocks.
        private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

        private static readonly Lock Gate = new();
        private static readonly object Sleepers = new();
        private static readonly List<Thread> Workers = [];
        [ThreadStatic] private static bool t_inRegion;

        // The current region; written by its caller before _generation is bumped, read by workers after they see the bump.
        private static Action<int>? _task;
        private static int _count, _next, _joining, _pending, _sleeping;
        private static long _generation;
        private static Exception? _error;

        public static bool TryRun(int threads, int count, Action<int> task)
        {
            if (t_inRegion || !Gate.TryEnter()) return false;
            try
            {
                while (Workers.Count < threads - 1) StartWorker();
                _task = task;
                _count = count;
                _next = 0;
                _error = null;
                _joining = threads - 1;
                _pending = Workers.Count; // every worker acknowledges every region, so none reads a later region's fields early
                Interlocked.Increment(ref _generation);
                if (Volatile.Read(ref _sleeping) > 0)
                    lock (Sleepers) Monitor.PulseAll(Sleepers);
                RunTasks();
                var wait = new SpinWait();
                while (Volatile.Read(ref _pending) > 0) wait.SpinOnce(sleep1Threshold: -1);
                _task = null;
                if (_error is { } error) ExceptionDispatchInfo.Throw(error);
                return true;
            }
            finally
            {
                Gate.Exit();
            }
        }

        private static void RunTasks()
        {
            t_inRegion = true;
            try
            {
                var task = _task!;
                int i;
                while ((i = Interlocked.Increment(ref _next) - 1) < _count)
                {
                    try
                    {
                        task(i);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref _error, e, null);
                    }
                }
            }
            finally
            {
                t_inRegion = false;
            }
        }

        private static void StartWorker()
        {
            int index = Workers.Count;
            long generation = _generation;
            var thread = new Thread(() => WorkerLoop(index, generation)) { IsBackground = true, Name = $"IlgpuSeg CPU worker {index + 1}" };
            thread.Start(); // before it is counted: a region waits for every worker in the list
            Workers.Add(thread);
        }

        private static void WorkerLoop(int index, long seen)
        {
            while (true)
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks;
                int polls = 0;
                long generation;
                while ((generation = Volatile.Read(ref _generation)) == seen)
                {
                    if ((++polls & 63) != 0 || Stopwatch.GetTimestamp() < deadline)
                    {
                        Thread.SpinWait(8);
                        continue;
                    }
                    lock (Sleepers)
                    {
                        // Counted before the last look at _generation, so a caller that bumps it afterwards sees a sleeper and pulses.
                        Interlocked.Increment(ref _sleeping);
                        while (Volatile.Read(ref _generation) == seen) Monitor.Wait(Sleepers);
                        Interlocked.Decrement(ref _sleeping);
                    }
                }
                seen = generation;
                if (index < _joining) RunTasks();
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
