using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Engine;

/// <summary>The CPU backend gives the same bits with 1 and 2 threads: work is split by size, reductions run in a fixed order.</summary>
public class DeterminismTests
{
    private static double[] Run(int threads, Func<Accelerator, Tensor> compute) =>
        compute(Context.Default.CreateCpuAccelerator(threads)).ToDoubleArray();

    private static Tensor Input(Accelerator acc, int[] shape, ulong seed, DType dtype) =>
        Tensor.Normal(shape, new Generator(seed), dtype: dtype, accelerator: acc);

    public static TheoryData<DType> DTypes => new() { DType.Float32, DType.Float64 };

    [Theory]
    [MemberData(nameof(DTypes))]
    public void MatMulIsBitwiseIdenticalFor1And2Threads(DType dtype)
    {
        Tensor Compute(Accelerator acc) => Ops.MatMul(Input(acc, [300, 500], 1, dtype), Input(acc, [500, 260], 2, dtype));
        Assert.Equal(Run(1, Compute), Run(2, Compute));
        Tensor Batched(Accelerator acc) => Ops.MatMul(Input(acc, [3, 130, 70], 3, dtype), Input(acc, [3, 90, 70], 4, dtype).Transpose(1, 2));
        Assert.Equal(Run(1, Batched), Run(2, Batched));
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void ReductionsAreBitwiseIdenticalFor1And2Threads(DType dtype)
    {
        Tensor All(Accelerator acc) => Ops.Sum(Input(acc, [1_000_003], 5, dtype));
        Assert.Equal(Run(1, All), Run(2, All));
        Tensor Axes(Accelerator acc) => Ops.Concat([
            Ops.Sum(Input(acc, [64, 33, 257], 6, dtype), [0, 2]),
            Ops.Mean(Input(acc, [64, 33, 257], 7, dtype), [1]).Reshape(-1),
            Ops.Variance(Input(acc, [64, 33, 257], 8, dtype), [0, 2]),
            Ops.Max(Input(acc, [64, 33, 257], 9, dtype), 2).Values.Reshape(-1)], 0);
        Assert.Equal(Run(1, Axes), Run(2, Axes));
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void SoftmaxIsBitwiseIdenticalFor1And2Threads(DType dtype)
    {
        Tensor Compute(Accelerator acc)
        {
            var x = Input(acc, [2, 21, 64, 64], 10, dtype);
            return Ops.Concat([Ops.Softmax(x, 1).Reshape(-1), Ops.LogSoftmax(x, -1).Reshape(-1)], 0);
        }
        Assert.Equal(Run(1, Compute), Run(2, Compute));
    }

    [Theory]
    [InlineData(2, 40, 2, 64)]   // im2col slabs
    [InlineData(2, 40, 1, 128)]  // Winograd
    [InlineData(12, 24, 1, 64)]  // tap path: dead taps near the borders
    public void ConvForwardAndBackwardAreBitwiseIdenticalFor1And2Threads(int dilation, int size, int stride, int channels)
    {
        var g = Conv2dGeometry.Square(stride, dilation, dilation);
        Tensor Compute(Accelerator acc)
        {
            var x = Input(acc, [2, channels, size, size], 11, DType.Float32);
            var w = Input(acc, [channels, channels, 3, 3], 12, DType.Float32);
            var y = Ops.Conv2d(x, w, null, g);
            var dy = Input(acc, y.Shape, 13, DType.Float32);
            return Ops.Concat([y.Reshape(-1), Ops.Conv2dBackwardInput(dy, w, x.Shape, g).Reshape(-1), Ops.Conv2dBackwardWeight(x, dy, w.Shape, g).Reshape(-1)], 0);
        }
        Assert.Equal(Run(1, Compute), Run(2, Compute));
    }
}
