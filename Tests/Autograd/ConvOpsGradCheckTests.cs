using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>Float64 central-difference checks of the convolutional network ops.</summary>
public class ConvOpsGradCheckTests
{
    private static Tensor Randn(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: DType.Float64);

    private static void Check(Func<Variable[], Variable> f, params Tensor[] inputs)
    {
        var result = GradCheck.Check(f, inputs);
        Assert.True(result.Passed, result.Message);
    }

    [Theory]
    [InlineData(3, 1, 1, 1, 7, 6)]   // the common 3×3
    [InlineData(3, 2, 1, 1, 9, 8)]   // stride 2
    [InlineData(1, 1, 0, 1, 5, 4)]   // pointwise: the no-im2col path
    [InlineData(1, 2, 0, 1, 7, 7)]   // ResNet downsample
    [InlineData(3, 1, 2, 2, 7, 9)]   // dilation 2
    [InlineData(3, 1, 4, 4, 9, 10)]  // dilation 4
    [InlineData(3, 1, 2, 1, 5, 5)]   // padding larger than dilation
    [InlineData(5, 3, 2, 1, 11, 13)] // odd sizes, stride 3
    [InlineData(2, 1, 0, 3, 8, 7)]   // even kernel with dilation
    public void Conv2d(int kernel, int stride, int padding, int dilation, int h, int w)
    {
        var x = Randn([2, 3, h, w], 1);
        var weight = Randn([4, 3, kernel, kernel], 2);
        var bias = Randn([4], 3);
        Check(v => F.Conv2d(v[0], v[1], v[2], stride, padding, dilation), x, weight, bias);
    }

    [Fact]
    public void Conv2dNonContiguousInputWithoutBias() =>
        Check(v => F.Conv2d(v[0], v[1], null, 1, 1, 1), Randn([2, 3, 6, 5], 4).Transpose(2, 3), Randn([2, 3, 3, 3], 5));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNorm(bool training)
    {
        var runningMean = Randn([3], 6);
        var runningVar = Ops.AddScalar(Ops.Abs(Randn([3], 7)), 0.5);
        // Each evaluation updates the running statistics in training mode; the output does not depend on them then.
        Check(v => F.BatchNorm(v[0], runningMean.Clone(), runningVar.Clone(), v[1], v[2], training), Randn([2, 3, 4, 5], 8), Randn([3], 9), Randn([3], 10));
        Check(v => F.BatchNorm(v[0], runningMean.Clone(), runningVar.Clone(), null, null, training), Randn([4, 3, 2, 3], 11).Permute(0, 1, 3, 2));
    }

    [Theory]
    [InlineData(3, 2, 1, 9, 8)] // ResNet stem pool
    [InlineData(2, 2, 0, 6, 7)]
    [InlineData(3, 1, 1, 5, 5)] // overlapping windows
    public void MaxPool2d(int kernel, int stride, int padding, int h, int w) =>
        Check(v => F.MaxPool2d(v[0], kernel, stride, padding), Randn([2, 3, h, w], 12));

    [Theory]
    [InlineData(3, 2, 1, 9, 8)]
    [InlineData(2, 2, 0, 6, 7)]
    [InlineData(3, 1, 1, 5, 5)]
    public void AvgPool2d(int kernel, int stride, int padding, int h, int w) =>
        Check(v => F.AvgPool2d(v[0], kernel, stride, padding), Randn([2, 3, h, w], 13));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 3)]
    [InlineData(5, 7)]
    public void AdaptiveAvgPool2d(int outH, int outW) =>
        Check(v => F.AdaptiveAvgPool2d(v[0], outH, outW), Randn([2, 3, 13, 11], 14));

    [Theory]
    [InlineData(13, 11, false)]
    [InlineData(13, 11, true)]
    [InlineData(3, 4, false)]
    [InlineData(3, 4, true)]
    [InlineData(1, 1, true)]
    public void Interpolate(int outH, int outW, bool alignCorners) =>
        Check(v => F.Interpolate(v[0], outH, outW, alignCorners), Randn([2, 2, 5, 7], 15));

    [Fact]
    public void DropoutWithAFixedGenerator()
    {
        // The same seed gives the same mask on every evaluation, so the check is well defined.
        Check(v => F.Dropout(v[0], 0.3, training: true, new Generator(99)), Randn([4, 50], 16));
    }
}
