using System.Text;
using static IlgpuSeg.Engine.OpenCLApi;

namespace IlgpuSeg.Engine;

/// <summary>
/// An OpenCL device (tested on PoCL, a CPU device). One in-order queue used without blocking: launches and
/// device-side copies are queued; the host waits only in <see cref="Accelerator.Synchronize"/> and reads.
/// Programs (one per element type) are built once per accelerator, their binaries cached on disk.
/// </summary>
public sealed unsafe class OpenCLAccelerator : DeviceAccelerator
{
    private readonly nint _device, _context, _queue;
    private readonly string _driver, _platformName;
    private readonly Dictionary<DType, Lazy<nint>> _programs = new();
    private readonly Dictionary<(DType, string), nint> _kernels = new();
    private readonly object _launchLock = new();

    /// <param name="tuning">Overrides the per-device choice; tests run the GPU tiling on PoCL with it.</param>
    internal OpenCLAccelerator(Context context, nint platform, nint device, DeviceTuning? tuning = null)
        : base(context, AcceleratorType.OpenCL, DeviceString(device, DeviceName))
    {
        _device = device;
        _driver = DeviceString(device, DriverVersion);
        _platformName = PlatformString(platform, PlatformName);
        MemorySize = (long)DeviceULong(device, DeviceGlobalMemSize);
        SupportsFloat64 = DeviceULong(device, DeviceDoubleFpConfig) != 0;
        IsCpu = (DeviceULong(device, DeviceType) & DeviceTypeCpu) != 0;
        Tuning = tuning ?? (IsCpu ? DeviceTuning.Cpu : DeviceTuning.Gpu);
        int error;
        nint d = device;
        _context = clCreateContext(null, 1, &d, 0, 0, &error);
        Check(error, "clCreateContext");
        _queue = clCreateCommandQueue(_context, device, 0, &error);
        Check(error, "clCreateCommandQueue");
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            _programs[dtype] = new Lazy<nint>(() => BuildProgram(dtype));
    }

    public override bool SupportsFloat64 { get; }

    public override long MemorySize { get; }

    /// <summary>True for CPU devices (PoCL), which get register-tiled kernels.</summary>
    public bool IsCpu { get; }

    public string Platform => _platformName;

    internal override DeviceTuning Tuning { get; }

    protected override ulong AllocRaw(long bytes)
    {
        int error;
        nint mem = clCreateBuffer(_context, MemReadWrite, (nuint)bytes, null, &error);
        if (error is -4 or -5 or -6 or -61) throw new OutOfMemoryException($"OpenCL device {Name}: cannot allocate {bytes} bytes ({ErrorName(error)})");
        Check(error, "clCreateBuffer");
        return (ulong)mem;
    }

    protected override void FreeRaw(ulong handle) => Check(clReleaseMemObject((nint)handle), "clReleaseMemObject");

    // Blocking: the caller's span may be moved or reused as soon as this returns.
    internal override void Write(ulong handle, long byteOffset, void* source, long bytes)
    {
        if (bytes == 0) return;
        Check(clEnqueueWriteBuffer(_queue, (nint)handle, 1, (nuint)byteOffset, (nuint)bytes, source, 0, null, null), "clEnqueueWriteBuffer");
    }

    internal override void Read(ulong handle, long byteOffset, void* destination, long bytes)
    {
        if (bytes == 0) return;
        Check(clEnqueueReadBuffer(_queue, (nint)handle, 1, (nuint)byteOffset, (nuint)bytes, destination, 0, null, null), "clEnqueueReadBuffer");
    }

    // CL_MEM_COPY_HOST_PTR copies at creation, outside the queue, so nothing waits; releasing right after
    // the launch is queued is safe because OpenCL keeps the memory until the commands using it finish.
    internal override ulong UploadInts(ReadOnlySpan<int> values)
    {
        int error;
        nint mem;
        fixed (int* p = values) mem = clCreateBuffer(_context, MemReadWrite | MemCopyHostPtr, (nuint)(values.Length * sizeof(int)), p, &error);
        Check(error, "clCreateBuffer");
        return (ulong)mem;
    }

    internal override void ReleaseUpload(ulong handle, int count) => Check(clReleaseMemObject((nint)handle), "clReleaseMemObject");

    internal override void Launch(DType dtype, string kernel, KernelArgs args, (int X, int Y, int Z) global, (int X, int Y, int Z) local)
    {
        if (dtype == DType.Float64 && !SupportsFloat64) throw new NotSupportedException($"OpenCL device {Name} has no fp64");
        // One kernel object per name is shared, so setting its arguments and enqueueing must not interleave.
        lock (_launchLock)
        {
            var k = Kernel(dtype, kernel);
            for (int i = 0; i < args.Values.Count; i++)
                fixed (byte* v = args.Values[i]) Check(clSetKernelArg(k, (uint)i, (nuint)args.Values[i].Length, v), $"clSetKernelArg({kernel}, {i})");
            nuint* g = stackalloc nuint[] { (nuint)global.X, (nuint)global.Y, (nuint)global.Z };
            nuint* l = stackalloc nuint[] { (nuint)local.X, (nuint)local.Y, (nuint)local.Z };
            Check(clEnqueueNDRangeKernel(_queue, k, 3, null, g, l, 0, null, null), $"clEnqueueNDRangeKernel({kernel})");
        }
    }

    internal override void Finish() => Check(clFinish(_queue), "clFinish");

    private nint Kernel(DType dtype, string name)
    {
        if (_kernels.TryGetValue((dtype, name), out var k)) return k;
        int error;
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes) k = clCreateKernel(_programs[dtype].Value, p, &error);
        Check(error, $"clCreateKernel({name})");
        _kernels[(dtype, name)] = k;
        return k;
    }

    /// <summary>The source this device compiles for <paramref name="dtype"/>.</summary>
    internal string ProgramSource(DType dtype) =>
        KernelSource.Assemble(KernelSource.Dialect.OpenCL, KernelSource.TypeDefines(dtype, SupportsFloat64).Concat(Tuning.Defines()));

    private const string BuildOptions = "-cl-std=CL1.2";

    private nint BuildProgram(DType dtype)
    {
        var source = ProgramSource(dtype);
        var key = KernelSource.Hash(source, BuildOptions, _platformName, Name, _driver);
        var cached = KernelSource.ReadCache("opencl", key);
        nint device = _device;
        int error;
        if (cached != null)
        {
            nuint length = (nuint)cached.Length;
            int status;
            nint program;
            fixed (byte* b = cached)
            {
                byte* pb = b;
                program = clCreateProgramWithBinary(_context, 1, &device, &length, &pb, &status, &error);
            }
            if (error == 0 && status == 0 && Build(program, out _) == 0) return program;
            if (program != 0) clReleaseProgram(program); // a stale or foreign binary: rebuild from source
        }
        var src = Encoding.UTF8.GetBytes(source);
        nint built;
        fixed (byte* s = src)
        {
            byte* ps = s;
            nuint len = (nuint)src.Length;
            built = clCreateProgramWithSource(_context, 1, &ps, &len, &error);
        }
        Check(error, "clCreateProgramWithSource");
        int code = Build(built, out var log);
        if (code != 0) throw new OpenCLException("clBuildProgram", code, $"{dtype.Name()} kernels on {Name}:\n{log}");
        KernelSource.WriteCache("opencl", key, Binary(built));
        return built;
    }

    private int Build(nint program, out string log)
    {
        nint device = _device;
        var options = Encoding.UTF8.GetBytes(BuildOptions + "\0");
        int code;
        fixed (byte* o = options) code = clBuildProgram(program, 1, &device, o, 0, 0);
        nuint size;
        clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size);
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) clGetProgramBuildInfo(program, device, ProgramBuildLog, size, p, null);
        log = Encoding.UTF8.GetString(bytes).TrimEnd('\0');
        return code;
    }

    private static byte[] Binary(nint program)
    {
        nuint size;
        Check(clGetProgramInfo(program, ProgramBinarySizes, (nuint)sizeof(nuint), &size, null), "clGetProgramInfo");
        var binary = new byte[(int)size];
        fixed (byte* b = binary)
        {
            byte* pb = b;
            Check(clGetProgramInfo(program, ProgramBinaries, (nuint)sizeof(nint), &pb, null), "clGetProgramInfo");
        }
        return binary;
    }
}
