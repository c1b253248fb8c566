using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability p (drawn from the explicit
    /// generator) and scales the rest by 1/(1 − p); identity in eval mode.
    /// </summary>
    public static Variable Dropout(Variable x, double p, bool training, Generator generator)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        if (!training || p == 0) return x;
        var u = Tensor.Uniform(x.Shape, generator, dtype: x.DType, accelerator: x.Data.Accelerator);
        var keep = Ops.Unary(UnaryOp.Step, Ops.AddScalar(u, -p)); // u > p keeps, probability 1 − p
        var mask = p == 1 ? keep : Ops.MulScalar(keep, 1 / (1 - p));
        return Tape.Record("dropout", Ops.Mul(x.Data, mask), [x], dy => [Ops.Mul(dy, mask)]);
    }
}
