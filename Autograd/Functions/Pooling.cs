using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>Max pooling; the gradient goes to the first maximum of each window.</summary>
    public static Variable MaxPool2d(Variable x, int kernel, int stride, int padding = 0)
    {
        var (y, argmax) = Ops.MaxPool2d(x.Data, new Pool2dGeometry(kernel, stride, padding));
        return Tape.Record("max_pool2d", y, [x], dy => [Ops.MaxPool2dBackward(dy, argmax, x.Shape)]);
    }

    /// <summary>Average pooling with count_include_pad = true.</summary>
    public static Variable AvgPool2d(Variable x, int kernel, int stride, int padding = 0)
    {
        var g = new Pool2dGeometry(kernel, stride, padding);
        return Tape.Record("avg_pool2d", Ops.AvgPool2d(x.Data, g), [x], dy => [Ops.AvgPool2dBackward(dy, x.Shape, g)]);
    }

    public static Variable AdaptiveAvgPool2d(Variable x, int outH, int outW) =>
        Tape.Record("adaptive_avg_pool2d", Ops.AdaptiveAvgPool2d(x.Data, outH, outW), [x], dy => [Ops.AdaptiveAvgPool2dBackward(dy, x.Shape)]);
}
