namespace IlgpuSeg.Engine;

/// <summary>
/// Grow-only scratch arrays per thread and element type (the im2col columns, Winograd's transformed tiles), so
/// steady-state convolutions allocate nothing large. Per thread because tests and users may run ops concurrently.
/// A kernel holds <see cref="Get"/> on its calling thread; the work items of its parallel regions use
/// <see cref="GetForWorker"/>, a second array, since the calling thread runs work items too.
/// </summary>
internal static class Workspace<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? _buffer;
    [ThreadStatic] private static T[]? _workerBuffer;

    public static T[] Get(int length) => Grow(ref _buffer, length);

    public static T[] GetForWorker(int length) => Grow(ref _workerBuffer, length);

    private static T[] Grow(ref T[]? slot, int length)
    {
        if (slot == null || slot.Length < length) slot = new T[length];
        return slot;
    }
}
