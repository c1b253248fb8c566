using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

/// <summary>
/// Differentiable ops, named as in torch / torch.nn.functional. One partial file per op family, each op's
/// forward and backward side by side.
/// </summary>
public static partial class F
{
    // ---- binary, with broadcasting: each gradient is summed back to its input's shape ----

    public static Variable Add(Variable a, Variable b) =>
        Tape.Record("add", Ops.Add(a.Data, b.Data), [a, b], g => [Ops.SumTo(g, a.Shape), Ops.SumTo(g, b.Shape)]);

    public static Variable Sub(Variable a, Variable b) =>
        Tape.Record("sub", Ops.Sub(a.Data, b.Data), [a, b], g => [Ops.SumTo(g, a.Shape), Ops.SumTo(Ops.Neg(g), b.Shape)]);

    public static Variable Mul(Variable a, Variable b) =>
        Tape.Record("mul", Ops.Mul(a.Data, b.Data), [a, b], g => [
            a.RequiresGrad ? Ops.SumTo(Ops.Mul(g, b.Data), a.Shape) : null,
            b.RequiresGrad ? Ops.SumTo(Ops.Mul(g, a.Data), b.Shape) : null]);

    // d(a/b)/da = 1/b, d(a/b)/db = −y/b
    public static Variable Div(Variable a, Variable b)
    {
        var y = Ops.Div(a.Data, b.Data);
        return Tape.Record("div", y, [a, b], g =>
        {
            var gOverB = Ops.Div(g, b.Data);
            return [Ops.SumTo(gOverB, a.Shape), b.RequiresGrad ? Ops.SumTo(Ops.Neg(Ops.Mul(gOverB, y)), b.Shape) : null];
        });
    }

    // d(a^b)/da = b·a^(b−1), d(a^b)/db = y·ln a
    public static Variable Pow(Variable a, Variable b)
    {
        var y = Ops.Pow(a.Data, b.Data);
        return Tape.Record("pow", y, [a, b], g => [
            a.RequiresGrad ? Ops.SumTo(Ops.Mul(g, Ops.Mul(b.Data, Ops.Pow(a.Data, Ops.AddScalar(b.Data, -1)))), a.Shape) : null,
            b.RequiresGrad ? Ops.SumTo(Ops.Mul(g, Ops.Mul(y, Ops.Log(a.Data))), b.Shape) : null]);
    }

    // ---- with a constant ----

    public static Variable AddScalar(Variable x, double value) =>
        Tape.Record("add_scalar", Ops.AddScalar(x.Data, value), [x], g => [g]);

    public static Variable MulScalar(Variable x, double value) =>
        Tape.Record("mul_scalar", Ops.MulScalar(x.Data, value), [x], g => [Ops.MulScalar(g, value)]);

    public static Variable PowScalar(Variable x, double exponent) =>
        Tape.Record("pow_scalar", Ops.PowScalar(x.Data, exponent), [x],
            g => [Ops.Mul(g, Ops.MulScalar(Ops.PowScalar(x.Data, exponent - 1), exponent))]);

    // ---- unary ----

    public static Variable Neg(Variable x) => Tape.Record("neg", Ops.Neg(x.Data), [x], g => [Ops.Neg(g)]);

    public static Variable Exp(Variable x)
    {
        var y = Ops.Exp(x.Data);
        return Tape.Record("exp", y, [x], g => [Ops.Mul(g, y)]);
    }

    public static Variable Log(Variable x) => Tape.Record("log", Ops.Log(x.Data), [x], g => [Ops.Div(g, x.Data)]);

    public static Variable Sqrt(Variable x)
    {
        var y = Ops.Sqrt(x.Data);
        return Tape.Record("sqrt", y, [x], g => [Ops.Div(Ops.MulScalar(g, 0.5), y)]);
    }

    public static Variable Abs(Variable x) => Tape.Record("abs", Ops.Abs(x.Data), [x], g => [Ops.Mul(g, Ops.Sign(x.Data))]);

    public static Variable Relu(Variable x) =>
        Tape.Record("relu", Ops.Relu(x.Data), [x], g => [Ops.ReluBackward(g, x.Data)]);

    /// <summary>Relu(Add(a, b)) as one op (a ResNet block's residual sum): one pass and one tensor fewer each way, same bits.</summary>
    public static Variable AddRelu(Variable a, Variable b)
    {
        var y = Ops.AddRelu(a.Data, b.Data);
        return Tape.Record("add_relu", y, [a, b], g =>
        {
            var gated = Ops.ReluBackward(g, y);
            return [Ops.SumTo(gated, a.Shape), Ops.SumTo(gated, b.Shape)];
        });
    }

    // σ' = y(1 − y)
    public static Variable Sigmoid(Variable x)
    {
        var y = Ops.Sigmoid(x.Data);
        return Tape.Record("sigmoid", y, [x], g => [Ops.Mul(g, Ops.Mul(y, Ops.AddScalar(Ops.Neg(y), 1)))]);
    }

    // tanh' = 1 − y²
    public static Variable Tanh(Variable x)
    {
        var y = Ops.Tanh(x.Data);
        return Tape.Record("tanh", y, [x], g => [Ops.Mul(g, Ops.AddScalar(Ops.Neg(Ops.Mul(y, y)), 1))]);
    }

    public static Variable Silu(Variable x) =>
        Tape.Record("silu", Ops.Silu(x.Data), [x], g => [Ops.Mul(g, Ops.Unary(UnaryOp.SiluGrad, x.Data))]);

    /// <summary>Clamp to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch).</summary>
    public static Variable Clamp(Variable x, double min, double max) =>
        Tape.Record("clamp", Ops.Clamp(x.Data, min, max), [x], g => [Ops.Mul(g, Ops.Unary(UnaryOp.InRange, x.Data, min, max))]);
}
