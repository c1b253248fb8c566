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
        if (threads == 1 || chunks == 1)
        {
            for (int c = 0; c < chunks; c++) body(c * grain, Math.Min(count, (c + 1) * grain));
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            c => body(c * grain, Math.Min(count, (c + 1) * grain)));
    }

    /// <summary>A grain that gives each chunk roughly <paramref name="workPerChunk"/> units of work.</summary>
    public static int Grain(long workPerItem, long workPerChunk = 1 << 15) =>
        (int)Math.Clamp(workPerChunk / Math.Max(1, workPerItem), 1, int.MaxValue);
}
