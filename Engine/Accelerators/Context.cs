namespace IlgpuSeg.Engine;

/// <summary>
/// The root object, as in ILGPU: it creates accelerators. <see cref="Default"/> holds a CPU accelerator
/// using every core, which tensors use when no accelerator is named.
/// </summary>
public sealed class Context : IDisposable
{
    private static readonly Lazy<Context> DefaultContext = new(() => new Context());
    private readonly Lazy<CpuAccelerator> _cpu;

    public Context() => _cpu = new Lazy<CpuAccelerator>(() => new CpuAccelerator(this, Environment.ProcessorCount));

    public static Context Default => DefaultContext.Value;

    /// <summary>The shared CPU accelerator with one worker per core.</summary>
    public CpuAccelerator Cpu => _cpu.Value;

    /// <summary>A CPU accelerator with a fixed number of worker threads (results do not depend on it).</summary>
    public CpuAccelerator CreateCpuAccelerator(int threads) => new(this, threads);

    public void Dispose()
    {
    }
}
