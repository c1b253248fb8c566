using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>F.BatchNormAddRelu: gradients, the same bits as F.AddRelu(F.BatchNorm(...), r) it replaces, and no kept temporary.</summary>
public class BatchNormAddReluTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientsMatchCentralDifferences(bool training)
    {
        Tensor Randn(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: DType.Float64);
        var runningMean = Randn([3], 6);
        var runningVar = Ops.AddScalar(Ops.Abs(Randn([3], 7)), 0.5);
        var result = GradCheck.Check(v => F.BatchNormAddRelu(v[0], v[1], runningMean.Clone(), runningVar.Clone(), v[2], v[3], training),
            [Randn([2, 3, 4, 5], 8), Randn([2, 3, 4, 5], 11), Randn([3], 9), Randn([3], 10)]);
        Assert.True(result.Passed, result.Message);
    }

    /// <summary>Output, input/residual/weight/bias gradients and running statistics of the fused and unfused forms.</summary>
    private static double[][] Run(Accelerator acc, bool fused, bool training, DType dtype)
    {
        var x = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(1), dtype: dtype, accelerator: acc));
        var r = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(7), dtype: dtype, accelerator: acc));
        var w = Variable.Parameter(Tensor.Normal([4], new Generator(2), dtype: dtype, accelerator: acc));
        var b = Variable.Parameter(Tensor.Normal([4], new Generator(3), dtype: dtype, accelerator: acc));
        var mean = Tensor.Normal([4], new Generator(4), dtype: dtype, accelerator: acc);
        var variance = Tensor.Uniform([4], new Generator(5), 0.5, 2, dtype, acc);
        var y = fused ? F.BatchNormAddRelu(x, r, mean, variance, w, b, training) : F.AddRelu(F.BatchNorm(x, mean, variance, w, b, training), r);
        var dy = Tensor.Normal(y.Shape, new Generator(6), dtype: dtype, accelerator: acc);
        y.Backward(dy);
        return [y.Data.ToDoubleArray(), x.Grad!.ToDoubleArray(), r.Grad!.ToDoubleArray(), w.Grad!.ToDoubleArray(), b.Grad!.ToDoubleArray(),
            mean.ToDoubleArray(), variance.ToDoubleArray()];
    }

    [Theory]
    [InlineData(true, DType.Float32)]
    [InlineData(false, DType.Float32)]
    [InlineData(true, DType.Float64)]
    public void FusedEqualsAddReluAfterBatchNormBitForBit(bool training, DType dtype)
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        var fused = Run(acc, fused: true, training, dtype);
        Assert.Contains(0.0, fused[0]); // some gates closed
        Assert.Contains(fused[0], v => v > 0);
        Assert.Equal(Run(acc, fused: false, training, dtype), fused);
    }

    [Fact]
    public void IlgpuCpuMatchesTheCpu()
    {
        var cpu = Run(Context.Default.Cpu, fused: true, training: true, DType.Float32);
        var device = Run(Context.Default.IlgpuCpu, fused: true, training: true, DType.Float32);
        for (int i = 0; i < cpu.Length; i++)
        {
            double scale = Math.Max(1e-3, cpu[i].Max(Math.Abs));
            double worst = cpu[i].Zip(device[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5 * scale, $"output {i}: max |diff| {worst:G3} against max |cpu| {scale:G3}");
        }
    }

    [Fact]
    public void TheNormalisedTensorIsNotKeptUntilBackward()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var x = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(1), accelerator: acc));
        var r = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(7), accelerator: acc));
        using var scope = TensorScope.Open();
        long before = acc.LiveBytes;
        var y = F.BatchNormAddRelu(x, r, null, null, null, null, training: true);
        // The output and a few per-channel statistics stay; the normalised copy, as large as the output, went back.
        long outputBytes = 2 * 4 * 5 * 3 * sizeof(float);
        Assert.InRange(acc.LiveBytes - before, outputBytes, outputBytes + 8 * 4 * sizeof(float));
        Assert.False(y.Data.IsReleased);
    }
}
