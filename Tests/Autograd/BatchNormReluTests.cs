using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>
/// F.BatchNorm(..., relu: true) and F.BatchNormAddRelu: gradients, and the same bits as F.Relu(F.BatchNorm(...)) and
/// F.AddRelu(F.BatchNorm(...), r) they replace; the add form keeps no normalised tensor.
/// </summary>
public class BatchNormReluTests
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void GradientsMatchCentralDifferences(bool training, bool residual)
    {
        Tensor Randn(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: DType.Float64);
        var runningMean = Randn([3], 6);
        var runningVar = Ops.AddScalar(Ops.Abs(Randn([3], 7)), 0.5);
        var result = residual
            ? GradCheck.Check(v => F.BatchNormAddRelu(v[0], v[3], runningMean.Clone(), runningVar.Clone(), v[1], v[2], training),
                [Randn([2, 3, 4, 5], 8), Randn([3], 9), Randn([3], 10), Randn([2, 3, 4, 5], 11)])
            : GradCheck.Check(v => F.BatchNorm(v[0], runningMean.Clone(), runningVar.Clone(), v[1], v[2], training, relu: true),
                [Randn([2, 3, 4, 5], 8), Randn([3], 9), Randn([3], 10)]);
        Assert.True(result.Passed, result.Message);
    }

    /// <summary>
    /// Output, gradients (input, residual when there is one, weight, bias) and running statistics of the fused and unfused
    /// forms on one accelerator: ReLU(batch norm), or with <paramref name="residual"/> ReLU(batch norm + r).
    /// </summary>
    private static double[][] Run(Accelerator acc, bool fused, bool training, DType dtype, bool residual = false)
    {
        var x = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(1), dtype: dtype, accelerator: acc));
        var w = Variable.Parameter(Tensor.Normal([4], new Generator(2), dtype: dtype, accelerator: acc));
        var b = Variable.Parameter(Tensor.Normal([4], new Generator(3), dtype: dtype, accelerator: acc));
        var mean = Tensor.Normal([4], new Generator(4), dtype: dtype, accelerator: acc);
        var variance = Tensor.Uniform([4], new Generator(5), 0.5, 2, dtype, acc);
        var r = residual ? Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(7), dtype: dtype, accelerator: acc)) : null;
        var y = (fused, r) switch
        {
            (true, null) => F.BatchNorm(x, mean, variance, w, b, training, relu: true),
            (false, null) => F.Relu(F.BatchNorm(x, mean, variance, w, b, training)),
            (true, Variable res) => F.BatchNormAddRelu(x, res, mean, variance, w, b, training),
            (false, Variable res) => F.AddRelu(F.BatchNorm(x, mean, variance, w, b, training), res),
        };
        var dy = Tensor.Normal(y.Shape, new Generator(6), dtype: dtype, accelerator: acc);
        y.Backward(dy);
        return [y.Data.ToDoubleArray(), x.Grad!.ToDoubleArray(), .. r == null ? [] : new[] { r.Grad!.ToDoubleArray() },
            w.Grad!.ToDoubleArray(), b.Grad!.ToDoubleArray(), mean.ToDoubleArray(), variance.ToDoubleArray()];
    }

    [Fact]
    public void Float32TrainingBackwardAgreesWithFloat64()
    {
        // Channels at very different scales (one almost constant), 2 × 32² positions: the sums the backward takes cancel.
        var values = Tensor.Normal([2, 6, 32, 32], new Generator(21), dtype: DType.Float64).ToDoubleArray();
        double[] scale = [1, 10, 1e-2, 1e-4, 3, 1];
        for (int i = 0; i < values.Length; i++) values[i] = values[i] * scale[i / 1024 % 6] + (i / 1024 % 6 == 4 ? 5 : 0);
        var dyValues = Tensor.Normal([2, 6, 32, 32], new Generator(22), dtype: DType.Float64).ToDoubleArray();
        double[][] Grads(DType dtype)
        {
            var x = Variable.Parameter(Tensor.FromArray(values, [2, 6, 32, 32]).To(dtype));
            var w = Variable.Parameter(Tensor.FromArray(new double[] { 1, -0.5, 2, 1, 0.7, 1.3 }, [6]).To(dtype));
            var b = Variable.Parameter(Tensor.FromArray(new double[] { 0, 0.1, -0.2, 0.3, 0, 0.5 }, [6]).To(dtype));
            var y = F.BatchNorm(x, null, null, w, b, training: true, relu: true);
            y.Backward(Tensor.FromArray(dyValues, [2, 6, 32, 32]).To(dtype));
            return [x.Grad!.ToDoubleArray(), w.Grad!.ToDoubleArray(), b.Grad!.ToDoubleArray()];
        }
        var single = Grads(DType.Float32);
        var exact = Grads(DType.Float64);
        for (int k = 0; k < 3; k++)
        {
            double max = exact[k].Max(Math.Abs);
            double err = exact[k].Zip(single[k], (e, s) => Math.Abs(e - s)).Max();
            Assert.True(err <= 1e-4 * max, $"gradient {k}: max error {err:G3} against max |g| {max:G3}");
        }
    }

    [Theory]
    [InlineData(true, DType.Float32, false)]
    [InlineData(false, DType.Float32, false)]
    [InlineData(true, DType.Float64, false)]
    [InlineData(true, DType.Float32, true)]
    [InlineData(false, DType.Float32, true)]
    [InlineData(true, DType.Float64, true)]
    public void FusedEqualsTheOpsItReplacesBitForBit(bool training, DType dtype, bool residual)
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        var fused = Run(acc, fused: true, training, dtype, residual);
        Assert.Contains(0.0, fused[0]); // some gates closed
        Assert.Contains(fused[0], v => v > 0);
        Assert.Equal(Run(acc, fused: false, training, dtype, residual), fused);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void IlgpuCpuMatchesTheCpu(bool training, bool residual)
    {
        var cpu = Run(Context.Default.Cpu, fused: true, training, DType.Float32, residual);
        AssertMatchesCpu(cpu, Run(Context.Default.IlgpuCpu, fused: true, training, DType.Float32, residual));
    }

    /// <summary>Each array of a run on the ILGPU CPU accelerator within 1e-5 of the CPU run's largest |value| (at least 1e-3).</summary>
    internal static void AssertMatchesCpu(double[][] cpu, double[][] device)
    {
        for (int i = 0; i < cpu.Length; i++)
        {
            double scale = Math.Max(1e-3, cpu[i].Max(Math.Abs));
            double worst = cpu[i].Zip(device[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5 * scale, $"output {i}: max |diff| {worst:G3} against max |cpu| {scale:G3}");
        }
    }

    [Fact]
    public void TheAddFormKeepsNoNormalisedTensor()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var x = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(1), accelerator: acc));
        var r = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(7), accelerator: acc));
        using var scope = TensorScope.Open();
        long before = acc.LiveBytes;
        var y = F.BatchNormAddRelu(x, r, null, null, null, null, training: true);
        // The output and a few per-channel statistics stay; the normalised copy, as large as the output, went back.
        long ArrayBytes(int floats) => (floats + CpuAccelerator.Slack<float>()) * sizeof(float);
        long outputBytes = ArrayBytes(2 * 4 * 5 * 3);
        Assert.InRange(acc.LiveBytes - before, outputBytes, outputBytes + 6 * ArrayBytes(4));
        Assert.False(y.Data.IsReleased);
    }
}
