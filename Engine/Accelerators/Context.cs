using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuSeg.Engine;

/// <summary>
/// The root object: it finds and creates accelerators. <see cref="Default"/> holds a CPU accelerator using
/// every core, which tensors use when no accelerator is named, plus the ILGPU devices: every CUDA and OpenCL
/// device ILGPU accepts (discovered on first use, one accelerator per device for the process) and ILGPU's CPU
/// accelerator (`ilgpu-cpu`, for tests and debugging: it runs the GPU kernels on host threads).
/// </summary>
public sealed class Context : IDisposable
{
    /// <summary>ILGPU's CPU accelerator is configured for groups of up to 4 × 4 threads, the widest group the kernels launch there.</summary>
    private const int CpuWarp = 4, CpuWarpsPerGroup = 4;

    private static readonly Lazy<Context> DefaultContext = new(() => new Context());
    private readonly Lazy<CpuAccelerator> _cpu;
    private readonly Lazy<IlgpuDevices> _ilgpu;

    public Context()
    {
        _cpu = new Lazy<CpuAccelerator>(() => new CpuAccelerator(this, Environment.ProcessorCount));
        _ilgpu = new Lazy<IlgpuDevices>(() => new IlgpuDevices(this));
    }

    public static Context Default => DefaultContext.Value;

    /// <summary>The shared CPU accelerator with one worker per core.</summary>
    public CpuAccelerator Cpu => _cpu.Value;

    /// <summary>A CPU accelerator with a fixed number of worker threads (results do not depend on it).</summary>
    public CpuAccelerator CreateCpuAccelerator(int threads) => new(this, threads);

    /// <summary>ILGPU's CPU accelerator running the device kernels (slow: small shapes only).</summary>
    public IlgpuAccelerator IlgpuCpu => _ilgpu.Value.Cpu.Value;

    /// <summary>CUDA devices ILGPU accepts (none without the NVIDIA driver or a GPU).</summary>
    public IReadOnlyList<IlgpuAccelerator> CudaAccelerators => _ilgpu.Value.Cuda;

    /// <summary>OpenCL devices ILGPU accepts (it refuses devices without the generic address space, such as PoCL 3.1).</summary>
    public IReadOnlyList<IlgpuAccelerator> OpenCLAccelerators => _ilgpu.Value.OpenCL;

    /// <summary>Devices found but refused, each with the reason ("opencl: NAME: reason").</summary>
    public IReadOnlyList<string> RefusedDevices => _ilgpu.Value.Refused;

    /// <summary>Whether CUDA kernels use NVIDIA's libdevice math (found with the CUDA SDK) rather than ILGPU.Algorithms' own.</summary>
    public bool UsesLibDevice => _ilgpu.Value.LibDevice;

    /// <summary>
    /// An accelerator by kind: "cpu", "ilgpu-cpu", "cuda" or "opencl", optionally with a device number ("cuda:1").
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
            "ilgpu-cpu" => [IlgpuCpu],
            "cuda" => CudaAccelerators,
            "opencl" => OpenCLAccelerators,
            _ => throw new ArgumentException($"accelerator '{name}': expected cpu, ilgpu-cpu, cuda or opencl (optionally :N)"),
        };
        if (index < list.Count) return list[index];
        var refused = RefusedDevices.Where(r => r.StartsWith(parts[0] + ":", StringComparison.Ordinal)).ToArray();
        string why = refused.Length > 0 ? "refused: " + string.Join("; ", refused)
            : parts[0] == "cuda" ? "no NVIDIA GPU and driver (libcuda) found"
            : parts[0] == "opencl" ? "no OpenCL device found (needs libOpenCL.so and an ICD)" : "";
        throw new InvalidOperationException($"accelerator '{name}' not found: {list.Count} {parts[0]} device(s); {why}");
    }

    public void Dispose()
    {
    }

    /// <summary>The compiler settings of every ILGPU context here (the PTX tests use them too): ILGPU.Algorithms' math intrinsics.</summary>
    internal static ILGPU.Context.Builder ConfigureIlgpu(ILGPU.Context.Builder builder) =>
        builder.EnableAlgorithms().Optimize(OptimizationLevel.O1);

    /// <summary>One ILGPU context for the process and the devices it offers.</summary>
    private sealed class IlgpuDevices
    {
        public IlgpuDevices(Context owner)
        {
            var cpuDevice = new CPUDevice(CpuWarp, CpuWarpsPerGroup, 1);
            ILGPU.Context.Builder Configure(ILGPU.Context.Builder b) => ConfigureIlgpu(b.CPU(cpuDevice).Cuda().OpenCL(_ => true));
            // libdevice gives CUDA kernels NVIDIA's accurate exp/log/tanh; it comes with the CUDA SDK, which may be absent.
            try
            {
                Ilgpu = ILGPU.Context.Create(b => Configure(b).LibDevice());
                LibDevice = true;
            }
            catch (Exception e) when (e is NotSupportedException or DirectoryNotFoundException or FileNotFoundException or InvalidOperationException)
            {
                Ilgpu = ILGPU.Context.Create(b => Configure(b));
            }
            Cpu = new Lazy<IlgpuAccelerator>(() => new IlgpuAccelerator(owner, AcceleratorType.IlgpuCpu, Ilgpu.GetCPUDevice(0).CreateAccelerator(Ilgpu)));
            var cuda = new List<IlgpuAccelerator>();
            var openCL = new List<IlgpuAccelerator>();
            var refused = new List<string>();
            foreach (var device in Ilgpu.GetCudaDevices())
                TryCreate(owner, "cuda", AcceleratorType.Cuda, device, cuda, refused);
            foreach (var device in Ilgpu.GetCLDevices())
                TryCreate(owner, "opencl", AcceleratorType.OpenCL, device, openCL, refused);
            Cuda = cuda;
            OpenCL = openCL;
            Refused = refused;
        }

        public ILGPU.Context Ilgpu { get; }

        public bool LibDevice { get; }

        public Lazy<IlgpuAccelerator> Cpu { get; }

        public IReadOnlyList<IlgpuAccelerator> Cuda { get; }

        public IReadOnlyList<IlgpuAccelerator> OpenCL { get; }

        public IReadOnlyList<string> Refused { get; }

        private void TryCreate(Context owner, string kind, AcceleratorType type, ILGPU.Runtime.Device device, List<IlgpuAccelerator> found, List<string> refused)
        {
            try
            {
                found.Add(new IlgpuAccelerator(owner, type, device.CreateAccelerator(Ilgpu)));
            }
            catch (Exception e) when (e is NotSupportedException or CapabilityNotSupportedException or ILGPU.Runtime.AcceleratorException or InvalidOperationException)
            {
                string name = device is CLDevice cl ? $"{cl.Name} ({cl.PlatformName})" : device.Name;
                refused.Add($"{kind}: {name}: {e.Message}");
            }
        }
    }
}
