using System.Runtime.InteropServices;
using System.Text;

namespace IlgpuSeg.Engine;

/// <summary>
/// The OpenCL entry points the accelerator uses, from the ICD loader libOpenCL.so.1 (the only name that
/// loads here). Flags and properties are 64-bit; handles are pointers.
/// </summary>
internal static unsafe partial class OpenCLApi
{
    private const string Lib = "libOpenCL.so.1";

    public const uint DeviceTypeCpu = 2, DeviceTypeAll = 0xFFFFFFFF;
    public const uint DeviceType = 0x1000, DeviceMaxWorkGroupSize = 0x1004, DeviceGlobalMemSize = 0x101F, DeviceName = 0x102B,
        DriverVersion = 0x102D, DeviceDoubleFpConfig = 0x1032, PlatformName = 0x0902;
    public const uint ProgramBinarySizes = 0x1165, ProgramBinaries = 0x1166, ProgramBuildLog = 0x1183;
    public const ulong MemReadWrite = 1, MemCopyHostPtr = 32;

    [LibraryImport(Lib)] public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);
    [LibraryImport(Lib)] public static partial int clGetPlatformInfo(nint platform, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);
    [LibraryImport(Lib)] public static partial int clGetDeviceInfo(nint device, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* error);
    [LibraryImport(Lib)] public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* error);
    [LibraryImport(Lib)] public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPtr, int* error);
    [LibraryImport(Lib)] public static partial int clReleaseMemObject(nint mem);
    [LibraryImport(Lib)] public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* error);
    [LibraryImport(Lib)] public static partial nint clCreateProgramWithBinary(nint context, uint numDevices, nint* devices, nuint* lengths, byte** binaries, int* status, int* error);
    [LibraryImport(Lib)] public static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);
    [LibraryImport(Lib)] public static partial int clGetProgramBuildInfo(nint program, nint device, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clGetProgramInfo(nint program, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clReleaseProgram(nint program);
    [LibraryImport(Lib)] public static partial nint clCreateKernel(nint program, byte* name, int* error);
    [LibraryImport(Lib)] public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [LibraryImport(Lib)] public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* offset, nuint* global, nuint* local, uint numEvents, nint* events, nint* evt);
    [LibraryImport(Lib)] public static partial int clEnqueueWriteBuffer(nint queue, nint mem, uint blocking, nuint offset, nuint size, void* ptr, uint numEvents, nint* events, nint* evt);
    [LibraryImport(Lib)] public static partial int clEnqueueReadBuffer(nint queue, nint mem, uint blocking, nuint offset, nuint size, void* ptr, uint numEvents, nint* events, nint* evt);
    [LibraryImport(Lib)] public static partial int clFinish(nint queue);

    /// <summary>Whether the ICD loader can be loaded at all.</summary>
    public static bool Available => NativeLibrary.TryLoad(Lib, out _);

    public static void Check(int code, string api)
    {
        if (code != 0) throw new OpenCLException(api, code);
    }

    public static string DeviceString(nint device, uint name)
    {
        nuint size;
        Check(clGetDeviceInfo(device, name, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) Check(clGetDeviceInfo(device, name, size, p, null), "clGetDeviceInfo");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    public static ulong DeviceULong(nint device, uint name)
    {
        ulong v = 0;
        Check(clGetDeviceInfo(device, name, sizeof(ulong), &v, null), "clGetDeviceInfo");
        return v;
    }

    public static string PlatformString(nint platform, uint name)
    {
        nuint size;
        Check(clGetPlatformInfo(platform, name, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) Check(clGetPlatformInfo(platform, name, size, p, null), "clGetPlatformInfo");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    /// <summary>Every OpenCL device of every platform (none when the loader or platforms are missing).</summary>
    public static List<(nint Platform, nint Device)> Devices()
    {
        var result = new List<(nint, nint)>();
        if (!Available) return result;
        uint count;
        if (clGetPlatformIDs(0, null, &count) != 0 || count == 0) return result; // -1001: no platform
        var platforms = new nint[count];
        fixed (nint* p = platforms) Check(clGetPlatformIDs(count, p, null), "clGetPlatformIDs");
        foreach (var platform in platforms)
        {
            uint n;
            if (clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &n) != 0 || n == 0) continue;
            var devices = new nint[n];
            fixed (nint* d = devices) Check(clGetDeviceIDs(platform, DeviceTypeAll, n, d, null), "clGetDeviceIDs");
            foreach (var d in devices) result.Add((platform, d));
        }
        return result;
    }

    public static string ErrorName(int code) => code switch
    {
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -30 => "CL_INVALID_VALUE",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -38 => "CL_INVALID_MEM_OBJECT",
        -42 => "CL_INVALID_BINARY",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "unknown OpenCL error",
    };
}

/// <summary>An OpenCL call failed; the message names the call and the error code.</summary>
public sealed class OpenCLException(string api, int code, string? detail = null)
    : Exception($"{api} failed: {OpenCLApi.ErrorName(code)} ({code}){(detail == null ? "" : "\n" + detail)}")
{
    public int Code { get; } = code;
}
