using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>F.AddRelu and ReLU's one-pass backward: gradients, and the same bits as the ops they replace.</summary>
public class AddReluTests
{
    private static Tensor Randn(int[] shape, ulong seed, DType dtype = DType.Float64, Accelerator? acc = null) =>
        Tensor.Normal(shape, new Generator(seed), dtype: dtype, accelerator: acc);

    [Fact]
    public void GradientsMatchCentralDifferences()
    {
        var result = GradCheck.Check(v => F.AddRelu(v[0], v[1]), [Randn([2, 3, 4], 1), Randn([3, 1], 2)]);
        Assert.True(result.Passed, result.Message);
        var relu = GradCheck.Check(v => F.Relu(v[0]), [Randn([3, 5], 3).Transpose(0, 1)]);
        Assert.True(relu.Passed, relu.Message);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void EqualsReluOfAddBitForBit(string device)
    {
        var acc = Context.Default.GetAccelerator(device);
        double[][] Run(bool fused)
        {
            var a = Variable.Parameter(Randn([2, 3, 5], 4, DType.Float32, acc));
            var b = Variable.Parameter(Randn([3, 5], 5, DType.Float32, acc));
            var y = fused ? F.AddRelu(a, b) : F.Relu(F.Add(a, b));
            y.Backward(Randn([2, 3, 5], 6, DType.Float32, acc));
            return [y.Data.ToDoubleArray(), a.Grad!.ToDoubleArray(), b.Grad!.ToDoubleArray()];
        }
        var fused = Run(fused: true);
        Assert.Contains(0.0, fused[0]);
        Assert.Contains(fused[0], v => v > 0);
        Assert.Equal(Run(fused: false), fused);
    }

    [Fact]
    public void ReluBackwardEqualsGradientTimesStep()
    {
        var g = Randn([7, 9], 7, DType.Float32);
        var x = Randn([9, 7], 8, DType.Float32).Transpose(0, 1);
        Assert.Equal(Ops.Mul(g, Ops.Unary(UnaryOp.Step, x)).ToArray<float>(), Ops.ReluBackward(g, x).ToArray<float>());
    }
}
