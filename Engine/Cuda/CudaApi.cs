using System.Runtime.InteropServices;

namespace IlgpuSeg.Engine;

/// <summary>
/// The CUDA Driver API entry points (libcuda.so.1, the real exported `_v2` symbols) and NVRTC
/// (libnvrtc.so.13, else .12). Neither is linked at build time: the libraries are resolved when first used,
/// so a machine without CUDA only fails when a CUDA accelerator is asked for.
/// </summary>
internal static unsafe partial class CudaApi
{
    private const string Cuda = "cuda", Nvrtc = "nvrtc";

    public const int AttrComputeMajor = 75, AttrComputeMinor = 76;

    static CudaApi() => NativeLibrary.SetDllImportResolver(typeof(CudaApi).Assembly, Resolve);

    private static nint Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name == Cuda) return NativeLibrary.TryLoad("libcuda.so.1", out var h) ? h : 0;
        if (name == Nvrtc) return NvrtcHandle.Value;
        return 0;
    }

    /// <summary>Whether the driver library loads (it does not on machines without an NVIDIA driver).</summary>
    public static bool DriverAvailable => NativeLibrary.TryLoad("libcuda.so.1", out _);

    private static readonly Lazy<nint> NvrtcHandle = new(LoadNvrtc);

    /// <summary>Folders searched for NVRTC, after the loader's own path.</summary>
    private static IEnumerable<string> NvrtcFolders()
    {
        var home = Environment.GetEnvironmentVariable("CUDA_HOME") ?? Environment.GetEnvironmentVariable("CUDA_PATH");
        if (!string.IsNullOrEmpty(home)) yield return Path.Combine(home, "lib64");
        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";
        yield return "/usr/lib/x86_64-linux-gnu";
    }

    // NVRTC dlopens libnvrtc-builtins.so.<major.minor> at compile time; preloading it from NVRTC's own
    // folder avoids NVRTC_ERROR_BUILTIN_OPERATION_FAILURE when that folder is not on the loader path.
    private static nint LoadNvrtc()
    {
        foreach (var version in new[] { "13", "12" })
            foreach (var dir in NvrtcFolders())
            {
                var path = Path.Combine(dir, "libnvrtc.so." + version);
                if (!File.Exists(path) || !NativeLibrary.TryLoad(path, out var handle)) continue;
                foreach (var builtins in Directory.EnumerateFiles(dir, "libnvrtc-builtins.so." + version + ".*"))
                    if (NativeLibrary.TryLoad(builtins, out _)) break;
                return handle;
            }
        foreach (var version in new[] { "13", "12" })
            if (NativeLibrary.TryLoad("libnvrtc.so." + version, out var handle)) return handle;
        throw new DllNotFoundException("NVRTC not found: libnvrtc.so.13 or .12 in $CUDA_HOME/lib64, /usr/local/cuda/lib64 or the loader path");
    }

    // ---- Driver API ----
    [LibraryImport(Cuda)] public static partial int cuInit(uint flags);
    [LibraryImport(Cuda)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(Cuda)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Cuda)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Cuda)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Cuda)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Cuda, EntryPoint = "cuDeviceTotalMem_v2")] public static partial int cuDeviceTotalMem(nuint* bytes, int device);
    [LibraryImport(Cuda)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Cuda)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Cuda, EntryPoint = "cuMemAlloc_v2")] public static partial int cuMemAlloc(ulong* pointer, nuint bytes);
    [LibraryImport(Cuda, EntryPoint = "cuMemFree_v2")] public static partial int cuMemFree(ulong pointer);
    [LibraryImport(Cuda, EntryPoint = "cuMemcpyHtoDAsync_v2")] public static partial int cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(Cuda, EntryPoint = "cuMemcpyDtoHAsync_v2")] public static partial int cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Cuda)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Cuda)] public static partial int cuStreamSynchronize(nint stream);
    [LibraryImport(Cuda)] public static partial int cuModuleLoadData(nint* module, void* image);
    [LibraryImport(Cuda)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Cuda)] public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** parameters, void** extra);
    [LibraryImport(Cuda)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(Cuda)] public static partial int cuGetErrorString(int error, byte** text);

    // ---- NVRTC ----
    [LibraryImport(Nvrtc)] public static partial int nvrtcVersion(int* major, int* minor);
    [LibraryImport(Nvrtc)] public static partial byte* nvrtcGetErrorString(int result);
    [LibraryImport(Nvrtc)] public static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int numHeaders, byte** headers, byte** includeNames);
    [LibraryImport(Nvrtc)] public static partial int nvrtcCompileProgram(nint program, int numOptions, byte** options);
    [LibraryImport(Nvrtc)] public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(Nvrtc)] public static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Nvrtc)] public static partial int nvrtcGetCUBINSize(nint program, nuint* size);
    [LibraryImport(Nvrtc)] public static partial int nvrtcGetCUBIN(nint program, byte* cubin);
    [LibraryImport(Nvrtc)] public static partial int nvrtcDestroyProgram(nint* program);

    public static void Check(int code, string api)
    {
        if (code == 0) return;
        string name = "CUDA_ERROR", text = "";
        byte* p;
        if (cuGetErrorName(code, &p) == 0 && p != null) name = Marshal.PtrToStringUTF8((nint)p) ?? name;
        if (cuGetErrorString(code, &p) == 0 && p != null) text = Marshal.PtrToStringUTF8((nint)p) ?? "";
        throw new CudaException($"{api} failed: {name} ({code}) {text}".TrimEnd());
    }

    public static void CheckNvrtc(int code, string api, string? log = null)
    {
        if (code == 0) return;
        var text = Marshal.PtrToStringUTF8((nint)nvrtcGetErrorString(code)) ?? "NVRTC error";
        throw new CudaException($"{api} failed: {text} ({code}){(log == null ? "" : "\n" + log)}");
    }
}

/// <summary>A CUDA driver or NVRTC call failed, or CUDA is not installed.</summary>
public sealed class CudaException(string message) : Exception(message);
