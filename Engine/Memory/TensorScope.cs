namespace IlgpuSeg.Engine;

/// <summary>
/// Deterministic tensor lifetime: every buffer allocated on this thread while a scope is open belongs to the
/// innermost open scope and goes back to its accelerator's pool when the scope is disposed, not when the GC
/// runs. A training step opens one around loss, backward and optimizer step; inference opens one around a
/// no-grad forward. Tensors that must outlive it (optimizer state, a result the caller keeps) are handed to the
/// GC with <see cref="Keep"/>; buffers allocated outside every scope (parameters, running statistics) belong to
/// the GC as before. A tensor whose buffer was returned throws on use (see <see cref="Tensor.Buffer"/>).
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly List<MemoryBuffer> _owned = [];
    private readonly TensorScope? _parent;
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private bool _disposed;

    private TensorScope(TensorScope? parent) => _parent = parent;

    /// <summary>Opens a scope on this thread; dispose it on the same thread, innermost first.</summary>
    public static TensorScope Open() => _current = new TensorScope(_current);

    /// <summary>The innermost open scope of this thread, or null.</summary>
    public static TensorScope? Current => _current;

    /// <summary>Number of buffers this scope will return when disposed.</summary>
    public int OwnedCount => _owned.Count(b => b.Owner == this && !b.IsReleased);

    /// <summary>
    /// Takes <paramref name="tensor"/>'s buffer (and so every view of it) out of its scope: the GC owns it from now
    /// on, as if it had been allocated outside every scope. Returns the tensor.
    /// </summary>
    public static Tensor Keep(Tensor tensor)
    {
        var buffer = tensor.Buffer;
        if (buffer.Owner != null) HandToGc(buffer);
        return tensor;
    }

    private static void HandToGc(MemoryBuffer buffer)
    {
        buffer.Owner = null;
        buffer.Accelerator.Detach(buffer);
    }

    /// <summary>Whether <paramref name="tensor"/>'s buffer was allocated in this scope (and not kept or released since).</summary>
    public bool Owns(Tensor tensor) => !tensor.IsReleased && tensor.Buffer.Owner == this;

    /// <summary>Returns an owned tensor's buffer to the pool now; every view of it throws from here on.</summary>
    public void Release(Tensor tensor)
    {
        if (!Owns(tensor)) throw new InvalidOperationException($"tensor {tensor.ShapeString} is not owned by this scope");
        tensor.Buffer.Dispose();
    }

    /// <summary>Ends this scope handing every buffer it still owns to the enclosing scope (to the GC when there is none).</summary>
    public void DisposeKeepingAll()
    {
        foreach (var buffer in _owned)
            if (buffer.Owner == this)
            {
                if (_parent != null) _parent.Add(buffer);
                else HandToGc(buffer);
            }
        _owned.Clear();
        Dispose();
    }

    internal void Add(MemoryBuffer buffer)
    {
        buffer.Owner = this;
        _owned.Add(buffer);
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (Environment.CurrentManagedThreadId != _thread || _current != this)
            throw new InvalidOperationException("tensor scope disposed out of order or on another thread; dispose scopes innermost first on the thread that opened them");
        _disposed = true;
        _current = _parent;
        foreach (var buffer in _owned)
            if (buffer.Owner == this) buffer.Dispose();
        _owned.Clear();
    }
}
