namespace IlgpuSeg.Engine;

/// <summary>
/// An ordered queue of kernel launches on one accelerator. The CPU stream runs each launch to completion
/// before returning, so Synchronize has nothing to wait for; device streams enqueue without blocking.
/// </summary>
public abstract class AcceleratorStream
{
    protected AcceleratorStream(Accelerator accelerator) => Accelerator = accelerator;

    public Accelerator Accelerator { get; }

    public abstract void Synchronize();
}
