using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>
/// F.BatchNormReluConv2d: gradients, the same bits as F.Conv2d(F.BatchNorm(..., relu: true), ...) it replaces (running
/// statistics updated once), and no ReLU output kept after the forward.
/// </summary>
public class BatchNormReluConvTests
{
    [Theory]
    [InlineData(3, 1, 1, true)]
    [InlineData(3, 2, 1, true)]  // stride 2
    [InlineData(3, 1, 2, true)]  // dilation 2
    [InlineData(1, 1, 1, true)]  // pointwise, a bottleneck's bn2 → conv3
    [InlineData(3, 1, 1, false)] // running statistics
    public void GradientsMatchCentralDifferences(int kernel, int stride, int dilation, bool training)
    {
        Tensor Randn(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: DType.Float64);
        var runningMean = Randn([3], 6);
        var runningVar = Ops.AddScalar(Ops.Abs(Randn([3], 7)), 0.5);
        int padding = dilation * (kernel / 2);
        var result = GradCheck.Check(v => F.BatchNormReluConv2d(v[0], runningMean.Clone(), runningVar.Clone(), v[1], v[2], training, 0.1, 1e-5,
                v[3], v[4], stride, padding, dilation),
            [Randn([2, 3, 7, 6], 8), Randn([3], 9), Randn([3], 10), Randn([4, 3, kernel, kernel], 11), Randn([4], 12)]);
        Assert.True(result.Passed, result.Message);
    }

    /// <summary>
    /// Output, the gradients of c, bn weight, bn bias, conv weight and conv bias (empty for an input that needs none) and
    /// the running statistics after one fused or unfused forward and backward inside a tensor scope, as in a training step.
    /// </summary>
    private static double[][] Run(Accelerator acc, bool fused, bool training, DType dtype, int kernel = 3, int stride = 1, int dilation = 1,
        bool[]? requiresGrad = null)
    {
        requiresGrad ??= [true, true, true, true, true];
        Tensor Normal(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: dtype, accelerator: acc);
        Tensor[] data = [Normal([2, 4, 9, 8], 1), Normal([4], 2), Normal([4], 3), Normal([5, 4, kernel, kernel], 4), Normal([5], 5)];
        var inputs = data.Select((t, i) => new Variable(t, requiresGrad[i])).ToArray();
        var (c, bnWeight, bnBias, convWeight, convBias) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]);
        var mean = Normal([4], 6);
        var variance = Tensor.Uniform([4], new Generator(7), 0.5, 2, dtype, acc);
        int padding = dilation * (kernel / 2);
        using var scope = TensorScope.Open();
        var y = fused
            ? F.BatchNormReluConv2d(c, mean, variance, bnWeight, bnBias, training, 0.1, 1e-5, convWeight, convBias, stride, padding, dilation)
            : F.Conv2d(F.BatchNorm(c, mean, variance, bnWeight, bnBias, training, relu: true), convWeight, convBias, stride, padding, dilation);
        var output = y.Data.ToDoubleArray();
        y.Backward(Normal(y.Shape, 8));
        return [output, .. inputs.Select(v => v.Grad?.ToDoubleArray() ?? []), mean.ToDoubleArray(), variance.ToDoubleArray()];
    }

    [Theory]
    [InlineData(true, DType.Float32, 3, 1, 1)]
    [InlineData(true, DType.Float32, 3, 2, 1)]
    [InlineData(true, DType.Float32, 3, 1, 2)]
    [InlineData(true, DType.Float32, 1, 1, 1)]
    [InlineData(false, DType.Float32, 3, 1, 1)]
    [InlineData(true, DType.Float64, 3, 1, 1)]
    [InlineData(false, DType.Float64, 3, 2, 1)]
    public void FusedEqualsTheOpsItReplacesBitForBit(bool training, DType dtype, int kernel, int stride, int dilation)
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        var fused = Run(acc, fused: true, training, dtype, kernel, stride, dilation);
        Assert.All(fused, values => Assert.NotEmpty(values));
        var unfused = Run(acc, fused: false, training, dtype, kernel, stride, dilation);
        Assert.Equal(unfused, fused);
        // In training mode the running statistics moved, by the one update the unfused chain makes (backward's recomputation makes none).
        var initialMean = Tensor.Normal([4], new Generator(6), dtype: dtype, accelerator: acc).ToDoubleArray();
        Assert.Equal(training, !initialMean.SequenceEqual(fused[6]));
    }

    [Theory]
    [InlineData(false, false, false, true, false)] // frozen input and batch norm: only the conv weight
    [InlineData(true, false, false, false, false)] // frozen conv and batch norm: only the input
    [InlineData(false, true, true, false, true)]   // batch norm and conv bias
    public void InputsThatNeedNoGradientGetNone(bool c, bool bnWeight, bool bnBias, bool convWeight, bool convBias)
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        bool[] requiresGrad = [c, bnWeight, bnBias, convWeight, convBias];
        var fused = Run(acc, fused: true, training: true, DType.Float32, requiresGrad: requiresGrad);
        for (int i = 0; i < requiresGrad.Length; i++) Assert.Equal(requiresGrad[i], fused[1 + i].Length > 0);
        Assert.Equal(Run(acc, fused: false, training: true, DType.Float32, requiresGrad: requiresGrad), fused);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    public void IlgpuCpuMatchesTheCpu(bool training, int dilation)
    {
        var cpu = Run(Context.Default.Cpu, fused: true, training, DType.Float32, dilation: dilation);
        BatchNormReluTests.AssertMatchesCpu(cpu, Run(Context.Default.IlgpuCpu, fused: true, training, DType.Float32, dilation: dilation));
    }

    [Fact]
    public void KeepsNoReluOutput()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var c = Variable.Parameter(Tensor.Normal([2, 4, 5, 3], new Generator(1), accelerator: acc));
        var bnWeight = Variable.Parameter(Tensor.Normal([4], new Generator(2), accelerator: acc));
        var bnBias = Variable.Parameter(Tensor.Normal([4], new Generator(3), accelerator: acc));
        var convWeight = Variable.Parameter(Tensor.Normal([6, 4, 3, 3], new Generator(4), accelerator: acc));
        long LiveAfterForward(bool fused)
        {
            using var scope = TensorScope.Open();
            long before = acc.LiveBytes;
            var y = fused
                ? F.BatchNormReluConv2d(c, null, null, bnWeight, bnBias, training: true, 0.1, 1e-5, convWeight, null, padding: 1)
                : F.Conv2d(F.BatchNorm(c, null, null, bnWeight, bnBias, training: true, relu: true), convWeight, null, padding: 1);
            Assert.False(y.Data.IsReleased);
            long live = acc.LiveBytes - before;
            Tape.Clear();
            return live;
        }
        // Everything else (the output, the per-channel statistics) is the same in both forms.
        long reluOutputBytes = (2 * 4 * 5 * 3 + CpuAccelerator.Slack<float>()) * sizeof(float);
        Assert.Equal(LiveAfterForward(fused: false) - reluOutputBytes, LiveAfterForward(fused: true));
    }
}
