using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Device;

/// <summary>
/// Every ILGPU kernel compiled to PTX for sm_80 and sm_90 without a GPU, with checks on the PTX text for what
/// compiles but would fail or mislead on a GPU: calls to undefined (.extern .func) functions, atomics (no kernel here
/// may use them: every result feeds training), local memory in the GEMM and convolution kernels, and more than
/// 48 KiB of shared memory per block (static, plus the largest dynamic request of a GPU launch).
/// </summary>
public class PtxCompileTests
{
    private static readonly ILGPU.Context Ilgpu = ILGPU.Context.Create(b => Context.ConfigureIlgpu(b));

    /// <summary>Every kernel method of the ILGPU backend, instantiated for float and double.</summary>
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var m in KernelMethods()) data.Add(Name(m));
        return data;
    }

    private static IEnumerable<MethodInfo> KernelMethods()
    {
        var methods = typeof(IlgpuKernels).GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal)).OrderBy(m => m.Name, StringComparer.Ordinal);
        foreach (var m in methods)
        {
            if (!m.IsGenericMethodDefinition)
            {
                yield return m;
                continue;
            }
            var args = m.GetGenericArguments();
            yield return m.MakeGenericMethod(args.Length == 1 ? [typeof(float)] : [typeof(float), typeof(Real32)]);
            yield return m.MakeGenericMethod(args.Length == 1 ? [typeof(double)] : [typeof(double), typeof(Real64)]);
        }
    }

    private static string Name(MethodInfo m) => m.IsGenericMethod ? $"{m.Name}<{m.GetGenericArguments()[0].Name}>" : m.Name;

    [Fact]
    public void EveryKernelFamilyIsCovered()
    {
        var names = KernelMethods().Select(m => m.Name).ToHashSet();
        foreach (var expected in new[] { "CopyKernel", "WidenKernel", "NarrowKernel", "FillKernel", "RandomKernel", "UnaryKernel", "BinaryKernel", "SumRowsKernel", "MaxRowsKernel",
                     "SoftmaxKernel", "SoftmaxBackwardKernel", "GemmKernel", "Im2ColKernel", "Col2ImKernel", "ChannelBiasKernel", "BnStatsKernel", "BnForwardKernel",
                     "BnBackwardSumsKernel", "BnBackwardDxKernel", "MaxPoolKernel", "MaxPoolBackwardKernel", "AvgPoolKernel", "AvgPoolBackwardKernel", "ResizeKernel",
                     "ResizeBackwardKernel", "NllKernel", "NllBackwardKernel", "IndexSelectKernel", "IndexAddKernel", "GatherKernel", "ScatterAddKernel",
                     "DiffusionStepKernel", "DiffusionStepBackwardKernel" })
            Assert.Contains(expected, names);
    }

    /// <summary>The largest dynamic shared memory a GPU launch requests (double): the GEMM's two tiles or a reduction tree.</summary>
    private static readonly long MaxDynamicSharedBytes = sizeof(double) * Math.Max(
        4L * IlgpuAccelerator.GpuGemmThreads * IlgpuAccelerator.GpuGemmThreads, IlgpuAccelerator.GpuReductionGroup);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesToCleanPtx(string kernel)
    {
        var method = KernelMethods().Single(m => Name(m) == kernel);
        // Implicitly grouped kernels take their index first; explicitly grouped ones read Grid/Group themselves.
        var entry = method.GetParameters()[0].ParameterType == typeof(ILGPU.Index1D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        foreach (var (arch, isa) in new[] { (CudaArchitecture.SM_80, CudaInstructionSet.ISA_80), (CudaArchitecture.SM_90, CudaInstructionSet.ISA_80) })
        {
            var backend = new PTXBackend(Ilgpu, new CudaCapabilityContext(arch), arch, isa, null!);
            var ptx = ((PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization())).PTXAssembly;
            // ILGPU 1.5.3 writes `.target sm_80` when asked for SM_90 (its newest PTX target); the driver JIT-compiles it for sm_90.
            Assert.Contains(".target sm_80", ptx);
            Assert.False(Regex.IsMatch(ptx, @"\.extern\s+\.func"), $"{kernel} on {arch}: calls an undefined function");
            Assert.False(Regex.IsMatch(ptx, @"\b(atom|red)\."), $"{kernel} on {arch}: atomics");
            if (Regex.IsMatch(method.Name, "^(Gemm|Im2Col|Col2Im|ChannelBias)"))
                Assert.False(Regex.IsMatch(ptx, @"\.local\b"), $"{kernel} on {arch}: local memory");
            long shared = Regex.Matches(ptx, @"\.shared\s+\.align\s+\d+\s+\.b8\s+\w+\[(\d+)\]").Sum(m => long.Parse(m.Groups[1].Value)) + MaxDynamicSharedBytes;
            Assert.True(shared <= 48 * 1024, $"{kernel} on {arch}: {shared} bytes of shared memory");
        }
    }
}
