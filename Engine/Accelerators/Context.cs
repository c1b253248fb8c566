namespace IlgpuSeg.Engine;

/// <summary>
/// The root object, as in ILGPU: it finds and creates accelerators. <see cref="Default"/> holds a CPU
/// accelerator using every core, which tensors use when no accelerator is named, plus every OpenCL and
/// CUDA device found (discovered on first use, one accelerator per device for the process).
/// </summary>
public sealed class Context : IDisposable
{
    private static readonly Lazy<Context> DefaultContext = new(() => new Context());
    private readonly Lazy<CpuAccelerator> _cpu;
    private readonly Lazy<IReadOnlyList<OpenCLAccelerator>> _openCL;
    private readonly Lazy<IReadOnlyList<CudaAccelerator>> _cuda;

    public Context()
    {
        _cpu = new Lazy<CpuAccelerator>(() => new CpuAccelerator(this, Environment.ProcessorCount));
        _openCL = new Lazy<IReadOnlyList<OpenCLAccelerator>>(() => OpenCLApi.Devices().Select(d => new OpenCLAccelerator(this, d.Platform, d.Device)).ToArray());
        _cuda = new Lazy<IReadOnlyList<CudaAccelerator>>(() => CudaAccelerator.Discover(this));
    }

    public static Context Default => DefaultContext.Value;

    /// <summary>The shared CPU accelerator with one worker per core.</summary>
    public CpuAccelerator Cpu => _cpu.Value;

    /// <summary>A CPU accelerator with a fixed number of worker threads (results do not depend on it).</summary>
    public CpuAccelerator CreateCpuAccelerator(int threads) => new(this, threads);

    /// <summary>OpenCL devices of every platform (none without an ICD loader or platform).</summary>
    public IReadOnlyList<OpenCLAccelerator> OpenCLAccelerators => _openCL.Value;

    /// <summary>CUDA devices (none without libcuda.so.1 or a GPU).</summary>
    public IReadOnlyList<CudaAccelerator> CudaAccelerators => _cuda.Value;

    /// <summary>The CPU accelerator, then every OpenCL and CUDA device.</summary>
    public IReadOnlyList<Accelerator> Accelerators => [Cpu, .. OpenCLAccelerators, .. CudaAccelerators];

    /// <summary>
    /// An accelerator by kind: "cpu", "opencl" or "cuda", optionally with a device number ("opencl:1").
    /// Throws with what was found when there is no such device.
    /// </summary>
    public Accelerator GetAccelerator(string name)
    {
        var parts = name.Trim().ToLowerInvariant().Split(':', 2);
        int index = 0;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out index) || index < 0))
            throw new ArgumentException($"accelerator '{name}': device number must be a non-negative integer");
        IReadOnlyList<Accelerator> list = parts[0] switch
        {
            "cpu" => [Cpu],
            "opencl" => OpenCLAccelerators,
            "cuda" => CudaAccelerators,
            _ => throw new ArgumentException($"accelerator '{name}': expected cpu, opencl or cuda (optionally :N)"),
        };
        if (index < list.Count) return list[index];
        string why = parts[0] switch
        {
            "opencl" => OpenCLApi.Available ? "the OpenCL loader reports no device (install an ICD such as pocl-opencl-icd)" : "libOpenCL.so.1 is not installed (ocl-icd-libopencl1)",
            "cuda" => CudaApi.DriverAvailable ? "the CUDA driver reports no GPU" : "libcuda.so.1 (the NVIDIA driver) is not installed",
            _ => "",
        };
        throw new InvalidOperationException($"accelerator '{name}' not found: {list.Count} {parts[0]} device(s); {why}");
    }

    public void Dispose()
    {
    }
}
