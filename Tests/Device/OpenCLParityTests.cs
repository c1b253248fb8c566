using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Device;

/// <summary>Every device kernel on OpenCL (PoCL in CI) against the CPU backend, and autograd on OpenCL tensors.</summary>
public class OpenCLParityTests
{
    private static OpenCLAccelerator Device => (OpenCLAccelerator)Context.Default.GetAccelerator("opencl");

    private static void AssertAllPass(List<SelfTestResult> results)
    {
        var failed = results.Where(r => !r.Pass).Select(r => $"{r.Op} {r.DType.Name()} {r.Case}: abs {r.MaxAbsError:G3} rel {r.MaxRelError:G3} {r.Error}").ToArray();
        Assert.True(failed.Length == 0, $"{failed.Length} of {results.Count} failed:\n" + string.Join("\n", failed));
        Assert.True(results.Count > 100, $"only {results.Count} cases ran");
    }

    [TheoryNeeds(Need.OpenCL)]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void EveryKernelMatchesTheCpu(DType dtype)
    {
        Assert.True(dtype == DType.Float32 || Device.SupportsFloat64, "PoCL offers fp64; this device does not");
        AssertAllPass(DeviceSelfTest.Run(Device, dtype));
    }

    /// <summary>The GPU tiling (local-memory GEMM, 256-wide reductions) is what CUDA runs: check it on PoCL too.</summary>
    [FactNeeds(Need.OpenCL)]
    public void GpuTilingMatchesTheCpu()
    {
        var (platform, device) = OpenCLApi.Devices()[0];
        var gpuTiled = new OpenCLAccelerator(Context.Default, platform, device, DeviceTuning.Gpu);
        AssertAllPass(DeviceSelfTest.Run(gpuTiled, DType.Float32));
    }

    [FactNeeds(Need.OpenCL)]
    public void RandomEqualsTheCpuBitForBit()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var cpu = Tensor.Uniform([4097], new Generator(9) { Counter = 1 << 20 }, -2, 5, dtype).ToDoubleArray();
            var dev = Tensor.Uniform([4097], new Generator(9) { Counter = 1 << 20 }, -2, 5, dtype, Device).ToDoubleArray();
            Assert.Equal(cpu, dev);
        }
    }

    /// <summary>A small conv → batch norm → relu → pool → resize → cross-entropy step: loss and every gradient.</summary>
    [FactNeeds(Need.OpenCL)]
    public void AutogradConvNetworkMatchesTheCpu()
    {
        var (cpuLoss, cpuGrads) = Step(Context.Default.Cpu);
        var (devLoss, devGrads) = Step(Device);
        Assert.Equal(cpuLoss, devLoss, 1e-5);
        for (int i = 0; i < cpuGrads.Length; i++)
        {
            double scale = Math.Max(1e-3, cpuGrads[i].Max(Math.Abs));
            double worst = cpuGrads[i].Zip(devGrads[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-4 * scale, $"gradient {i}: max |diff| {worst:G3} against max |cpu| {scale:G3}");
        }
    }

    private static (double Loss, double[][] Grads) Step(Accelerator acc)
    {
        var gen = new Generator(5);
        Variable P(params int[] shape) => Variable.Parameter(Tensor.Normal(shape, gen, 0, 0.5).To(acc));
        var x = P(2, 3, 12, 10);
        var w1 = P(8, 3, 3, 3);
        var b1 = P(8);
        var gamma = P(8);
        var beta = P(8);
        var w2 = P(4, 8, 1, 1);
        var runningMean = Tensor.Zeros([8], DType.Float32, acc);
        var runningVar = Tensor.Ones([8], DType.Float32, acc);
        var h = F.Conv2d(x, w1, b1, stride: 1, padding: 1);
        h = F.Relu(F.BatchNorm(h, runningMean, runningVar, gamma, beta, training: true));
        h = F.MaxPool2d(h, 2, 2);
        h = F.Conv2d(h, w2);
        h = F.Interpolate(h, 12, 10, alignCorners: false);
        var labels = Enumerable.Range(0, 2 * 12 * 10).Select(i => i % 7 == 0 ? -100 : i * 13 % 4).ToArray();
        var loss = F.CrossEntropy(h, new IndexTensor(labels, [2, 12, 10]));
        loss.Backward();
        return (loss.Data.Item(), [.. new[] { x, w1, b1, gamma, beta, w2 }.Select(v => v.Grad!.ToDoubleArray()), runningVar.ToDoubleArray()]);
    }
}

public class AcceleratorSelectionTests
{
    [Fact]
    public void CpuIsAlwaysFound() => Assert.Same(Context.Default.Cpu, Context.Default.GetAccelerator("cpu"));

    [Fact]
    public void UnknownKindIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Context.Default.GetAccelerator("tpu"));
        Assert.Contains("cpu, opencl or cuda", e.Message);
    }

    [Fact]
    public void MissingCudaSaysWhy()
    {
        if (Context.Default.CudaAccelerators.Count > 0) return; // a machine with a GPU has nothing to report
        var e = Assert.Throws<InvalidOperationException>(() => Context.Default.GetAccelerator("cuda"));
        Assert.Contains(CudaApi.DriverAvailable ? "no GPU" : "libcuda.so.1", e.Message);
    }

    [Fact]
    public void MissingDeviceNumberSaysHowManyExist()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Context.Default.GetAccelerator("opencl:99"));
        Assert.Contains("opencl device(s)", e.Message);
    }
}
