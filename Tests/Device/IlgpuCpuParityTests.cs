using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Device;

/// <summary>
/// The ILGPU kernels run on ILGPU's CPU accelerator (the same C# kernels CUDA compiles), against the CPU SIMD
/// backend. The CPU accelerator is slow, so every shape here is small.
/// </summary>
public class IlgpuCpuParityTests
{
    private static Accelerator Device => Context.Default.IlgpuCpu;

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void EveryKernelMatchesTheCpu(DType dtype)
    {
        var results = DeviceSelfTest.Run(Device, dtype);
        var failed = results.Where(r => !r.Pass).Select(r => $"{r.Op} {r.DType.Name()} {r.Case}: abs {r.MaxAbsError:G3} rel {r.MaxRelError:G3} {r.Error}").ToArray();
        Assert.True(failed.Length == 0, $"{failed.Length} of {results.Count} failed:\n" + string.Join("\n", failed));
        Assert.True(results.Count > 100, $"only {results.Count} cases ran");
    }

    [Fact]
    public void RandomEqualsTheCpuBitForBit()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var cpu = Tensor.Uniform([4097], new Generator(9) { Counter = 1 << 20 }, -2, 5, dtype).ToDoubleArray();
            var dev = Tensor.Uniform([4097], new Generator(9) { Counter = 1 << 20 }, -2, 5, dtype, Device).ToDoubleArray();
            Assert.Equal(cpu, dev);
        }
    }

    [Fact]
    public void KernelsWithoutAtomicsGiveTheSameBitsTwice()
    {
        static double[] Run()
        {
            var x = Tensor.Uniform([3, 4, 9, 7], new Generator(3), -1, 1, DType.Float32, Device);
            var w = Tensor.Uniform([5, 4, 3, 3], new Generator(4), -1, 1, DType.Float32, Device);
            var y = Ops.Conv2d(x, w, null, Conv2dGeometry.Square(1, 1, 1));
            return Ops.Softmax(y.Reshape(15, 63), axis: 1).ToDoubleArray();
        }
        Assert.Equal(Run(), Run());
    }

    /// <summary>A small conv → batch norm → relu → pool → resize → cross-entropy step: loss and every gradient.</summary>
    [Fact]
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

    /// <summary>Float64 central differences through a tiny conv net whose every op runs on the ILGPU device.</summary>
    [Fact]
    public void Float64GradientsOfATinyConvNetAreRight()
    {
        var gen = new Generator(11);
        Tensor R(params int[] shape) => Tensor.Normal(shape, gen, 0, 0.5, DType.Float64).To(Device);
        var result = GradCheck.Check(v =>
        {
            var h = F.Conv2d(v[0], v[1], v[2], stride: 1, padding: 1);
            h = F.Relu(F.BatchNorm(h, null, null, v[3], null, training: true));
            h = F.AvgPool2d(h, 2, 2);
            h = F.Interpolate(F.Conv2d(h, v[4]), 4, 4, alignCorners: true);
            return F.LogSoftmax(F.Reshape(h, 2, 16), axis: 1);
        }, [R(1, 2, 4, 4), R(3, 2, 3, 3), R(3), R(3), R(2, 3, 1, 1)]);
        Assert.True(result.Passed, result.Message);
    }
}

public class AcceleratorSelectionTests
{
    [Fact]
    public void CpuIsAlwaysFound() => Assert.Same(Context.Default.Cpu, Context.Default.GetAccelerator("cpu"));

    [Fact]
    public void IlgpuCpuIsAlwaysFound() => Assert.Equal(AcceleratorType.IlgpuCpu, Context.Default.GetAccelerator("ilgpu-cpu").AcceleratorType);

    [Fact]
    public void UnknownKindIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Context.Default.GetAccelerator("tpu"));
        Assert.Contains("cpu, ilgpu-cpu, cuda or opencl", e.Message);
    }

    [Fact]
    public void MissingCudaSaysWhy()
    {
        if (Context.Default.CudaAccelerators.Count > 0) return; // a machine with a GPU has nothing to report
        var e = Assert.Throws<InvalidOperationException>(() => Context.Default.GetAccelerator("cuda"));
        Assert.Contains("0 cuda device(s)", e.Message);
    }

    [Fact]
    public void MissingDeviceNumberSaysHowManyExist()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Context.Default.GetAccelerator("opencl:99"));
        Assert.Contains("opencl device(s)", e.Message);
    }
}
