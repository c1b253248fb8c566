using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    public static Variable Softmax(Variable x, int axis)
    {
        var y = Ops.Softmax(x.Data, axis);
        return Tape.Record("softmax", y, [x], g => [Ops.SoftmaxBackward(y, g, axis, log: false)]);
    }

    public static Variable LogSoftmax(Variable x, int axis)
    {
        var y = Ops.LogSoftmax(x.Data, axis);
        return Tape.Record("log_softmax", y, [x], g => [Ops.SoftmaxBackward(y, g, axis, log: true)]);
    }
}
