using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuSeg.Benchmarks;

/// <summary>What a benchmark's header says about the CPU: one host may be lent different CPUs from day to day.</summary>
public static class MachineInfo
{
    /// <summary>"2 logical CPUs (AMD EPYC), AVX2 kernels (no AVX-512)": the count, the model and the vector width our kernels run.</summary>
    public static string Cpus()
    {
        string model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown model"
            : "unknown model";
        string isa = Vector512.IsHardwareAccelerated ? "AVX-512 kernels"
            : Avx2.IsSupported ? $"AVX2 kernels ({(Avx512F.IsSupported ? "AVX-512 present but not used by .NET" : "no AVX-512")})"
            : "scalar kernels";
        return $"{Environment.ProcessorCount} logical CPUs ({model}), {isa}";
    }
}
