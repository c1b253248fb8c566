namespace IlgpuSeg.Engine;

/// <summary>
/// A grow-only scratch array per thread and element type (the im2col columns), so steady-state
/// convolutions allocate nothing large. Per thread because tests and users may run ops concurrently.
/// </summary>
internal static class Workspace<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? _buffer;

    public static T[] Get(int length)
    {
        if (_buffer == null || _buffer.Length < length) _buffer = new T[length];
        return _buffer;
    }
}
