using System.Diagnostics;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Device;

/// <summary>
/// Every kernel file compiled by clang as CUDA (behind prelude_cuda.h, as NVRTC would see it) and as
/// OpenCL C 1.2 (behind prelude_opencl.h): catches dialect breaks without a GPU or an OpenCL driver.
/// </summary>
public class KernelCompileTests
{
    public static TheoryData<string, DType, bool> Files()
    {
        var data = new TheoryData<string, DType, bool>();
        foreach (var file in KernelSource.KernelFiles)
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                foreach (bool gpuTiling in new[] { false, true })
                    data.Add(file, dtype, gpuTiling);
        return data;
    }

    private static string Clang => Prerequisites.FindOnPath("clang-15") ?? Prerequisites.FindOnPath("clang-14") ?? "clang-15";

    [TheoryNeeds(Need.Clang)]
    [MemberData(nameof(Files))]
    public void CompilesAsCuda(string file, DType dtype, bool gpuTiling)
    {
        var defines = KernelSource.TypeDefines(dtype, hasFp64: true).Concat((gpuTiling ? DeviceTuning.Gpu : DeviceTuning.Cpu).Defines());
        var source = KernelSource.Assemble(KernelSource.Dialect.Cuda, defines, [file]);
        Compile(source, ".cu", "-x", "cuda", "--cuda-device-only", "-nocudainc", "-nocudalib", "--cuda-gpu-arch=sm_70", "-S", "-o", "/dev/null");
    }

    [TheoryNeeds(Need.Clang)]
    [MemberData(nameof(Files))]
    public void CompilesAsOpenCLC(string file, DType dtype, bool gpuTiling)
    {
        var defines = KernelSource.TypeDefines(dtype, hasFp64: true).Concat((gpuTiling ? DeviceTuning.Gpu : DeviceTuning.Cpu).Defines());
        var source = KernelSource.Assemble(KernelSource.Dialect.OpenCL, defines, [file]);
        Compile(source, ".cl", "-x", "cl", "-cl-std=CL1.2", "-Xclang", "-finclude-default-header", "-fsyntax-only");
    }

    /// <summary>The float program of a device without fp64 must not mention double.</summary>
    [FactNeeds(Need.Clang)]
    public void FloatProgramWithoutFp64CompilesAsOpenCLC()
    {
        var source = KernelSource.Assemble(KernelSource.Dialect.OpenCL, KernelSource.TypeDefines(DType.Float32, hasFp64: false).Concat(DeviceTuning.Gpu.Defines()));
        Compile(source, ".cl", "-x", "cl", "-cl-std=CL1.2", "-Xclang", "-finclude-default-header", "-fsyntax-only");
    }

    private static void Compile(string source, string extension, params string[] args)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ilgpuseg-kernel-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, source);
        try
        {
            var psi = new ProcessStartInfo(Clang) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("-Werror");
            psi.ArgumentList.Add(path);
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{Path.GetFileName(Clang)} {string.Join(' ', args)} failed:\n{stderr.Result}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
