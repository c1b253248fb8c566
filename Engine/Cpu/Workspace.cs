namespace IlgpuSeg.Engine;

/// <summary>
/// Grow-only scratch arrays per thread and element type (the im2col columns, Winograd's transformed tiles), so
/// steady-state convolutions allocate nothing large. Per thread because tests and users may run ops concurrently.
/// A kernel holds <see cref="Get"/> on its calling thread; the work items of its parallel regions use
/// <see cref="GetForWorker"/>, a second array, since the calling thread runs work items too. An outgrown array joins
/// the free lists of the accelerator whose kernel outgrew it, where tensors of about its length reuse it: left to the GC
/// it stayed in the heap as garbage (ResNet-101 outgrows four, 45 MB, in its first step). The span handed out starts on a
/// 64-byte boundary, as tensor buffers do (<see cref="CpuAccelerator.NewArray"/>).
/// </summary>
internal static class Workspace<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? _buffer;
    [ThreadStatic] private static T[]? _workerBuffer;

    public static Span<T> Get(int length, CpuAccelerator accelerator) => Grow(ref _buffer, length, accelerator);

    public static Span<T> GetForWorker(int length, CpuAccelerator accelerator) => Grow(ref _workerBuffer, length, accelerator);

    private static Span<T> Grow(ref T[]? slot, int length, CpuAccelerator accelerator)
    {
        if (slot == null || slot.Length < length + CpuAccelerator.Slack<T>())
        {
            if (slot != null) accelerator.Return(slot, pooled: false);
            slot = CpuAccelerator.NewArray<T>(length);
        }
        return slot.AsSpan(CpuAccelerator.AlignedStart(slot), length);
    }
}
