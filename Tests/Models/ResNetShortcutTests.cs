using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

public class ResNetShortcutTests
{
    /// <summary>
    /// Inside a tensor scope a block's downsample output goes back to the pool once the add-ReLU has read it; backward
    /// still runs (a read of it would throw) and gives the gradients of a run outside every scope, where nothing is
    /// released. A block without downsample adds its input, which conv1's backward reads: that one stays.
    /// </summary>
    [Theory]
    [InlineData(ResNetBlock.Bottleneck, true)]
    [InlineData(ResNetBlock.Bottleneck, false)]
    [InlineData(ResNetBlock.Basic, true)]
    [InlineData(ResNetBlock.Basic, false)]
    public void ADownsampleOutputIsReleasedAfterTheAddRelu(ResNetBlock kind, bool downsample)
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        int inPlanes = downsample ? 8 : 16, stride = downsample ? 2 : 1;
        Layer block = kind == ResNetBlock.Bottleneck
            ? new Bottleneck(inPlanes, 4, stride, 1, downsample, new Generator(1), DType.Float32, acc)
            : new BasicBlock(inPlanes, 16, stride, 1, 1, downsample, new Generator(1), DType.Float32, acc);
        var input = Tensor.Normal([2, inPlanes, 9, 9], new Generator(2), accelerator: acc);

        float[][] Gradients(bool scoped)
        {
            using var scope = scoped ? TensorScope.Open() : null;
            var x = Variable.Parameter(input);
            var output = block.Forward(x);
            var shortcut = output.Creator!.Inputs[1];
            Assert.Equal(scoped && downsample, shortcut.Data.IsReleased);
            F.Mean(output).Backward();
            float[][] grads = [x.Grad!.ToArray<float>(), .. block.Parameters().Select(p => p.Grad!.ToArray<float>())];
            block.ZeroGrad();
            return grads;
        }

        var reference = Gradients(scoped: false);
        Assert.Equal(reference, Gradients(scoped: true));
    }
}
