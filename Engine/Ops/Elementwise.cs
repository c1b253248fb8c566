namespace IlgpuSeg.Engine;

/// <summary>
/// The engine's ops: each checks its inputs (naming the op and the shapes when they are wrong),
/// allocates the output on the inputs' accelerator and launches that accelerator's kernel.
/// One partial file per op family.
/// </summary>
public static partial class Ops
{
    internal static void CheckPair(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw new ShapeException($"{op}: dtypes differ, {a.DType.Name()} {a.ShapeString} and {b.DType.Name()} {b.ShapeString}");
        if (a.Accelerator != b.Accelerator)
            throw new ShapeException($"{op}: tensors {a.ShapeString} and {b.ShapeString} are on different accelerators ({a.Accelerator}, {b.Accelerator})");
    }

    public static Tensor Unary(UnaryOp op, Tensor x, double a = 0, double b = 0)
    {
        using var _ = OpProfiler.Scope(OpFamily.Elementwise);
        var y = x.NewEmpty(x.Shape);
        x.Accelerator.Kernels.Unary(op, x, y, a, b);
        return y;
    }

    /// <summary>An elementwise binary op with NumPy broadcasting.</summary>
    public static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        using var _ = OpProfiler.Scope(OpFamily.Elementwise);
        string name = op.ToString().ToLowerInvariant();
        CheckPair(name, a, b);
        var shape = Shape.Broadcast(name, a.Shape, b.Shape);
        var y = a.NewEmpty(shape);
        a.Accelerator.Kernels.Binary(op, a.Expand(shape), b.Expand(shape), y);
        return y;
    }

    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    public static Tensor Sub(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    public static Tensor Div(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);
    public static Tensor Pow(Tensor a, Tensor b) => Binary(BinaryOp.Pow, a, b);
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(BinaryOp.Max, a, b);
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(BinaryOp.Min, a, b);

    /// <summary>Relu(Add(a, b)) in one pass, same bits.</summary>
    public static Tensor AddRelu(Tensor a, Tensor b) => Binary(BinaryOp.AddRelu, a, b);

    /// <summary>ReLU's backward: g where <paramref name="gate"/> (the ReLU's input or output) is positive, else g·0.</summary>
    public static Tensor ReluBackward(Tensor g, Tensor gate) => Binary(BinaryOp.ReluGrad, g, gate);

    public static Tensor Neg(Tensor x) => Unary(UnaryOp.Neg, x);
    public static Tensor Exp(Tensor x) => Unary(UnaryOp.Exp, x);
    public static Tensor Log(Tensor x) => Unary(UnaryOp.Log, x);
    public static Tensor Sqrt(Tensor x) => Unary(UnaryOp.Sqrt, x);
    public static Tensor Abs(Tensor x) => Unary(UnaryOp.Abs, x);
    public static Tensor Relu(Tensor x) => Unary(UnaryOp.Relu, x);
    public static Tensor Sigmoid(Tensor x) => Unary(UnaryOp.Sigmoid, x);
    public static Tensor Tanh(Tensor x) => Unary(UnaryOp.Tanh, x);
    public static Tensor Silu(Tensor x) => Unary(UnaryOp.Silu, x);
    public static Tensor Sign(Tensor x) => Unary(UnaryOp.Sign, x);
    public static Tensor PowScalar(Tensor x, double exponent) => Unary(UnaryOp.PowScalar, x, exponent);
    public static Tensor AddScalar(Tensor x, double value) => Unary(UnaryOp.AddScalar, x, value);
    public static Tensor MulScalar(Tensor x, double value) => Unary(UnaryOp.MulScalar, x, value);

    public static Tensor Clamp(Tensor x, double min, double max)
    {
        if (!(min <= max)) throw new ShapeException($"clamp: min {min} is greater than max {max} for {x.ShapeString}");
        return Unary(UnaryOp.Clamp, x, min, max);
    }
}
