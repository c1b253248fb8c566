using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Unary and binary ops over strided views. The op is a kernel argument: one kernel per family keeps the
// module small, and the switch is uniform across a launch. Op numbers follow UnaryOp / BinaryOp.
internal sealed partial class IlgpuKernels
{
    public void Unary(UnaryOp op, Tensor x, Tensor y, double a = 0, double b = 0)
    {
        CheckDevice(x, y);
        if (IsFloat(y)) Unary<float, Real32>(op, x, y, a, b);
        else Unary<double, Real64>(op, x, y, a, b);
    }

    private void Unary<T, R>(UnaryOp op, Tensor x, Tensor y, double a, double b) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (y.Count == 0) return;
        var kernel = device.Kernel(UnaryKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, int, Layout, ArrayView<T>, ArrayView<T>, T, T>(UnaryKernel<T>));
        kernel(y.Count, (int)op, Layout.Of(y.Shape, x, y), View<T>(x), View<T>(y), R.Of(a), R.Of(b));
    }

    private static void UnaryKernel<T>(Index1D i, int op, Layout l, ArrayView<T> x, ArrayView<T> y, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        l.Offsets(i, out int xi, out int yi, out _);
        y[yi] = ApplyUnary(op, x[xi], a, b);
    }

    private static T ApplyUnary<T>(int op, T x, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T one = T.One, zero = T.Zero;
        switch (op)
        {
            case (int)UnaryOp.Neg: return -x;
            case (int)UnaryOp.Exp: return T.Exp(x);
            case (int)UnaryOp.Log: return T.Log(x);
            case (int)UnaryOp.Sqrt: return T.Sqrt(x);
            case (int)UnaryOp.Abs: return T.Abs(x);
            case (int)UnaryOp.Relu: return x > zero ? x : T.IsNaN(x) ? x : zero;
            case (int)UnaryOp.Sigmoid: return one / (one + T.Exp(-x));
            case (int)UnaryOp.Tanh: return T.Tanh(x);
            case (int)UnaryOp.Silu: return x / (one + T.Exp(-x));
            case (int)UnaryOp.Clamp: return T.IsNaN(x) ? x : x < a ? a : x > b ? b : x;
            case (int)UnaryOp.PowScalar: return T.Pow(x, a);
            case (int)UnaryOp.AddScalar: return x + a;
            case (int)UnaryOp.MulScalar: return x * a;
            case (int)UnaryOp.Sign: return x > zero ? one : x < zero ? -one : T.IsNaN(x) ? x : zero;
            case (int)UnaryOp.Step: return x > zero ? one : zero;
            case (int)UnaryOp.InRange: return x >= a && x <= b ? one : zero;
            default:
                T s = one / (one + T.Exp(-x));
                return s * (one + x * (one - s));
        }
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        CheckDevice(a, b, y);
        if (IsFloat(y)) Binary<float>(op, a, b, y);
        else Binary<double>(op, a, b, y);
    }

    private void Binary<T>(BinaryOp op, Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Count == 0) return;
        var kernel = device.Kernel(BinaryKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, int, Layout, ArrayView<T>, ArrayView<T>, ArrayView<T>>(BinaryKernel<T>));
        kernel(y.Count, (int)op, Layout.Of(y.Shape, a, b, y), View<T>(a), View<T>(b), View<T>(y));
    }

    private static void BinaryKernel<T>(Index1D i, int op, Layout l, ArrayView<T> a, ArrayView<T> b, ArrayView<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        l.Offsets(i, out int ai, out int bi, out int yi);
        T u = a[ai], v = b[bi];
        y[yi] = op switch
        {
            (int)BinaryOp.Add => u + v,
            (int)BinaryOp.Sub => u - v,
            (int)BinaryOp.Mul => u * v,
            (int)BinaryOp.Div => u / v,
            (int)BinaryOp.Pow => T.Pow(u, v),
            (int)BinaryOp.Max => MaxNaN(u, v),
            (int)BinaryOp.Min => MinNaN(u, v),
            (int)BinaryOp.AddRelu => ApplyUnary((int)UnaryOp.Relu, u + v, T.Zero, T.Zero),
            _ => u * ApplyUnary((int)UnaryOp.Step, v, T.Zero, T.Zero),
        };
    }

    /// <summary>Max that propagates NaN, as .NET's Math.Max does.</summary>
    private static T MaxNaN<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T> => T.IsNaN(a) || T.IsNaN(b) ? a + b : a > b ? a : b;

    private static T MinNaN<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T> => T.IsNaN(a) || T.IsNaN(b) ? a + b : a < b ? a : b;
}
