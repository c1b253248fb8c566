using System.Runtime.InteropServices;
using System.Text;
using static IlgpuSeg.Engine.CudaApi;

namespace IlgpuSeg.Engine;

/// <summary>
/// A CUDA device through the Driver API (primary context, one non-blocking stream) and NVRTC (the shared
/// kernel sources behind prelude_cuda.h, compiled to CUBIN for the device's sm_XX and cached on disk).
/// Everything above launching is <see cref="DeviceKernels"/>, shared with OpenCL. NOT RUN ON A GPU in this
/// repository's CI (there is none); `ilgpuseg selftest --device cuda` checks it on a machine with one.
/// </summary>
public sealed unsafe class CudaAccelerator : DeviceAccelerator
{
    private readonly int _device;
    private readonly nint _context, _stream;
    private readonly string _arch;
    private readonly int _driverVersion;
    private readonly Dictionary<DType, Lazy<nint>> _modules = new();
    private readonly Dictionary<(DType, string), nint> _functions = new();
    private readonly object _launchLock = new();

    private CudaAccelerator(Context context, int device, string name)
        : base(context, AcceleratorType.Cuda, name)
    {
        _device = device;
        nint ctx;
        Check(cuDevicePrimaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain");
        _context = ctx;
        Check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
        int major, minor, version;
        Check(cuDeviceGetAttribute(&major, AttrComputeMajor, device), "cuDeviceGetAttribute");
        Check(cuDeviceGetAttribute(&minor, AttrComputeMinor, device), "cuDeviceGetAttribute");
        Check(cuDriverGetVersion(&version), "cuDriverGetVersion");
        _arch = $"sm_{major}{minor}";
        _driverVersion = version;
        nuint total;
        Check(cuDeviceTotalMem(&total, device), "cuDeviceTotalMem_v2");
        MemorySize = (long)total;
        nint stream;
        Check(cuStreamCreate(&stream, 1), "cuStreamCreate"); // CU_STREAM_NON_BLOCKING
        _stream = stream;
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            _modules[dtype] = new Lazy<nint>(() => LoadModule(dtype));
    }

    /// <summary>Every CUDA device; empty when libcuda.so.1 is absent or reports no device.</summary>
    internal static List<CudaAccelerator> Discover(Context context)
    {
        var result = new List<CudaAccelerator>();
        if (!DriverAvailable) return result;
        if (cuInit(0) != 0) return result; // e.g. CUDA_ERROR_NO_DEVICE: a driver without a GPU
        int count;
        Check(cuDeviceGetCount(&count), "cuDeviceGetCount");
        for (int i = 0; i < count; i++)
        {
            int device;
            Check(cuDeviceGet(&device, i), "cuDeviceGet");
            var name = new byte[256];
            fixed (byte* p = name) Check(cuDeviceGetName(p, name.Length, device), "cuDeviceGetName");
            result.Add(new CudaAccelerator(context, device, Encoding.UTF8.GetString(name).TrimEnd('\0')));
        }
        return result;
    }

    public override bool SupportsFloat64 => true;

    public override long MemorySize { get; }

    /// <summary>The compute capability the kernels are compiled for, e.g. sm_86.</summary>
    public string Architecture => _arch;

    internal override DeviceTuning Tuning => DeviceTuning.Gpu;

    // The context is current per host thread: set it before driver calls that may run on a new thread.
    private void Current() => Check(cuCtxSetCurrent(_context), "cuCtxSetCurrent");

    protected override ulong AllocRaw(long bytes)
    {
        Current();
        ulong p;
        int code = cuMemAlloc(&p, (nuint)bytes);
        if (code == 2) throw new OutOfMemoryException($"CUDA device {Name}: cannot allocate {bytes} bytes");
        Check(code, "cuMemAlloc_v2");
        return p;
    }

    protected override void FreeRaw(ulong handle)
    {
        Current();
        Check(cuMemFree(handle), "cuMemFree_v2");
    }

    // From pageable memory the driver stages the copy before returning, so the source may be reused after.
    internal override void Write(ulong handle, long byteOffset, void* source, long bytes)
    {
        if (bytes == 0) return;
        Current();
        Check(cuMemcpyHtoDAsync(handle + (ulong)byteOffset, source, (nuint)bytes, _stream), "cuMemcpyHtoDAsync_v2");
    }

    internal override void Read(ulong handle, long byteOffset, void* destination, long bytes)
    {
        if (bytes == 0) return;
        Current();
        Check(cuMemcpyDtoHAsync(destination, handle + (ulong)byteOffset, (nuint)bytes, _stream), "cuMemcpyDtoHAsync_v2");
        Check(cuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    // Uploads come from the caching allocator; the single stream orders any later reuse after the launch.
    internal override ulong UploadInts(ReadOnlySpan<int> values)
    {
        ulong handle = Rent(values.Length * sizeof(int));
        fixed (int* p = values) Write(handle, 0, p, values.Length * sizeof(int));
        return handle;
    }

    internal override void ReleaseUpload(ulong handle, int count) => Return(handle, count * sizeof(int));

    internal override void Launch(DType dtype, string kernel, KernelArgs args, (int X, int Y, int Z) global, (int X, int Y, int Z) local)
    {
        lock (_launchLock)
        {
            Current();
            var f = Function(dtype, kernel);
            var pins = args.Values.Select(v => GCHandle.Alloc(v, GCHandleType.Pinned)).ToArray();
            try
            {
                var pointers = stackalloc void*[pins.Length];
                for (int i = 0; i < pins.Length; i++) pointers[i] = (void*)pins[i].AddrOfPinnedObject();
                Check(cuLaunchKernel(f, (uint)(global.X / local.X), (uint)(global.Y / local.Y), (uint)(global.Z / local.Z),
                    (uint)local.X, (uint)local.Y, (uint)local.Z, 0, _stream, (void**)pointers, null), $"cuLaunchKernel({kernel})");
            }
            finally
            {
                foreach (var p in pins) p.Free();
            }
        }
    }

    internal override void Finish()
    {
        Current();
        Check(cuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    private nint Function(DType dtype, string name)
    {
        if (_functions.TryGetValue((dtype, name), out var f)) return f;
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes) Check(cuModuleGetFunction(&f, _modules[dtype].Value, p), $"cuModuleGetFunction({name})");
        _functions[(dtype, name)] = f;
        return f;
    }

    internal string ProgramSource(DType dtype) =>
        KernelSource.Assemble(KernelSource.Dialect.Cuda, KernelSource.TypeDefines(dtype, true).Concat(Tuning.Defines()));

    private nint LoadModule(DType dtype)
    {
        var source = ProgramSource(dtype);
        int major, minor;
        CheckNvrtc(nvrtcVersion(&major, &minor), "nvrtcVersion");
        var key = KernelSource.Hash(source, _arch, $"nvrtc {major}.{minor}", $"driver {_driverVersion}");
        var cubin = KernelSource.ReadCache("cuda", key);
        if (cubin == null)
        {
            cubin = Compile(source, dtype);
            KernelSource.WriteCache("cuda", key, cubin);
        }
        nint module;
        fixed (byte* p = cubin) Check(cuModuleLoadData(&module, p), "cuModuleLoadData");
        return module;
    }

    // CUBIN for the device's own sm_XX, never PTX: PTX from an NVRTC newer than the driver fails to load.
    private byte[] Compile(string source, DType dtype)
    {
        var src = Encoding.UTF8.GetBytes(source + "\0");
        var name = Encoding.UTF8.GetBytes($"ilgpuseg_{dtype.Name()}.cu\0");
        var options = new[] { $"--gpu-architecture={_arch}", "--std=c++17" }.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
        nint program;
        fixed (byte* s = src, n = name) CheckNvrtc(nvrtcCreateProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram");
        try
        {
            var pins = options.Select(o => GCHandle.Alloc(o, GCHandleType.Pinned)).ToArray();
            int code;
            try
            {
                var ptrs = stackalloc byte*[pins.Length];
                for (int i = 0; i < pins.Length; i++) ptrs[i] = (byte*)pins[i].AddrOfPinnedObject();
                code = nvrtcCompileProgram(program, pins.Length, ptrs);
            }
            finally
            {
                foreach (var p in pins) p.Free();
            }
            nuint logSize;
            CheckNvrtc(nvrtcGetProgramLogSize(program, &logSize), "nvrtcGetProgramLogSize");
            var log = new byte[(int)logSize];
            fixed (byte* l = log) CheckNvrtc(nvrtcGetProgramLog(program, l), "nvrtcGetProgramLog");
            CheckNvrtc(code, "nvrtcCompileProgram", $"{dtype.Name()} kernels for {_arch}:\n{Encoding.UTF8.GetString(log).TrimEnd('\0')}");
            nuint size;
            CheckNvrtc(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
            var cubin = new byte[(int)size];
            fixed (byte* c = cubin) CheckNvrtc(nvrtcGetCUBIN(program, c), "nvrtcGetCUBIN");
            return cubin;
        }
        finally
        {
            nvrtcDestroyProgram(&program);
        }
    }
}
