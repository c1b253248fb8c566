using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>torch.nn.functional.conv2d with groups = 1 and square stride, padding and dilation.</summary>
    public static Variable Conv2d(Variable x, Variable weight, Variable? bias = null, int stride = 1, int padding = 0, int dilation = 1)
    {
        var g = Conv2dGeometry.Square(stride, padding, dilation);
        var y = Ops.Conv2d(x.Data, weight.Data, bias?.Data, g);
        Variable[] inputs = bias == null ? [x, weight] : [x, weight, bias];
        return Tape.Record("conv2d", y, inputs, dy => [
            x.RequiresGrad ? Ops.Conv2dBackwardInput(dy, weight.Data, x.Shape, g) : null,
            weight.RequiresGrad ? Ops.Conv2dBackwardWeight(x.Data, dy, weight.Shape, g) : null,
            .. bias == null ? Array.Empty<Tensor?>() : [bias.RequiresGrad ? Ops.Sum(dy, [0, 2, 3]) : null]]);
    }
}
