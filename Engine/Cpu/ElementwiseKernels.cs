using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    public void Unary(UnaryOp op, Tensor x, Tensor y, double a = 0, double b = 0)
    {
        if (x.DType == DType.Float32) Unary<float>(op, x, y, a, b);
        else Unary<double>(op, x, y, a, b);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        if (y.DType == DType.Float32) Binary<float>(op, a, b, y);
        else Binary<double>(op, a, b, y);
    }

    /// <summary>The scalar definition of every unary op; the reference for the fast paths.</summary>
    internal static T ApplyUnary<T>(UnaryOp op, T x, T a, T b) where T : IFloatingPointIeee754<T> => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => T.Exp(x),
        UnaryOp.Log => T.Log(x),
        UnaryOp.Sqrt => T.Sqrt(x),
        UnaryOp.Abs => T.Abs(x),
        UnaryOp.Relu => x > T.Zero ? x : T.IsNaN(x) ? x : T.Zero,
        UnaryOp.Sigmoid => T.One / (T.One + T.Exp(-x)),
        UnaryOp.Tanh => T.Tanh(x),
        UnaryOp.Silu => x / (T.One + T.Exp(-x)),
        UnaryOp.Clamp => T.IsNaN(x) ? x : x < a ? a : x > b ? b : x,
        UnaryOp.PowScalar => T.Pow(x, a),
        UnaryOp.AddScalar => x + a,
        UnaryOp.MulScalar => x * a,
        UnaryOp.Sign => x > T.Zero ? T.One : x < T.Zero ? -T.One : T.IsNaN(x) ? x : T.Zero,
        UnaryOp.Step => x > T.Zero ? T.One : T.Zero,
        UnaryOp.InRange => x >= a && x <= b ? T.One : T.Zero,
        UnaryOp.SiluGrad => SiluGrad(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    private static T SiluGrad<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T s = T.One / (T.One + T.Exp(-x));
        return s * (T.One + x * (T.One - s));
    }

    /// <summary>The scalar definition of every binary op.</summary>
    internal static T ApplyBinary<T>(BinaryOp op, T a, T b) where T : IFloatingPointIeee754<T> => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => T.Pow(a, b),
        BinaryOp.Max => T.Max(a, b),
        BinaryOp.Min => T.Min(a, b),
        BinaryOp.AddRelu => ApplyUnary(UnaryOp.Relu, a + b, T.Zero, T.Zero),
        BinaryOp.ReluGrad => a * ApplyUnary(UnaryOp.Step, b, T.Zero, T.Zero),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    private void Unary<T>(UnaryOp op, Tensor x, Tensor y, double ad, double bd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = new StridedLayout(y.Shape, x, y);
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        T a = Cast<T>(ad), b = Cast<T>(bd);
        int sx = layout.InnerStride(0), sy = layout.InnerStride(1);
        CpuParallel.For(Threads, layout.Rows, layout.RowGrain, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int xi = layout.RowStart(0, r), yi = layout.RowStart(1, r), n = layout.RowLength(r);
                if (sx == 1 && sy == 1 && UnaryFast(op, xs.AsSpan(xi, n), ys.AsSpan(yi, n), a, b)) continue;
                for (int j = 0; j < n; j++) ys[yi + j * sy] = ApplyUnary(op, xs[xi + j * sx], a, b);
            }
        });
    }

    /// <summary>
    /// SIMD versions of the ops whose result is exactly rounded (so they match the scalar reference bit
    /// for bit); transcendental ops stay scalar, which keeps them identical on every code path.
    /// </summary>
    private static bool UnaryFast<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); return true;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); return true;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); return true;
            case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); return true;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, a, y); return true;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(x, a, y); return true;
            default: return false;
        }
    }

    private void Binary<T>(BinaryOp op, Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = new StridedLayout(y.Shape, a, b, y);
        var aa = Data<T>(a);
        var bb = Data<T>(b);
        var ys = Data<T>(y);
        int sa = layout.InnerStride(0), sb = layout.InnerStride(1), sy = layout.InnerStride(2);
        CpuParallel.For(Threads, layout.Rows, layout.RowGrain, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int ai = layout.RowStart(0, r), bi = layout.RowStart(1, r), yi = layout.RowStart(2, r), n = layout.RowLength(r);
                if (sy == 1 && (sa == 1 || sa == 0) && (sb == 1 || sb == 0)
                    && BinaryFast(op, aa.AsSpan(ai, sa == 0 ? 1 : n), sa == 0, bb.AsSpan(bi, sb == 0 ? 1 : n), sb == 0, ys.AsSpan(yi, n)))
                    continue;
                for (int j = 0; j < n; j++) ys[yi + j * sy] = ApplyBinary(op, aa[ai + j * sa], bb[bi + j * sb]);
            }
        });
    }

    /// <summary>SIMD rows for the exactly rounded ops, with either side possibly a broadcast scalar.</summary>
    private static bool BinaryFast<T>(BinaryOp op, ReadOnlySpan<T> a, bool aScalar, ReadOnlySpan<T> b, bool bScalar, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (aScalar && bScalar) return false;
        switch (op)
        {
            case BinaryOp.Add:
                if (aScalar) TensorPrimitives.Add(b, a[0], y);
                else if (bScalar) TensorPrimitives.Add(a, b[0], y);
                else TensorPrimitives.Add(a, b, y);
                return true;
            case BinaryOp.AddRelu:
                if (aScalar) TensorPrimitives.Add(b, a[0], y);
                else if (bScalar) TensorPrimitives.Add(a, b[0], y);
                else TensorPrimitives.Add(a, b, y);
                TensorPrimitives.Max(y, T.Zero, y); // as UnaryOp.Relu's fast path
                return true;
            case BinaryOp.Mul:
                if (aScalar) TensorPrimitives.Multiply(b, a[0], y);
                else if (bScalar) TensorPrimitives.Multiply(a, b[0], y);
                else TensorPrimitives.Multiply(a, b, y);
                return true;
            case BinaryOp.Sub:
                if (aScalar) TensorPrimitives.Subtract(a[0], b, y);
                else if (bScalar) TensorPrimitives.Subtract(a, b[0], y);
                else TensorPrimitives.Subtract(a, b, y);
                return true;
            case BinaryOp.Div:
                if (aScalar) TensorPrimitives.Divide(a[0], b, y);
                else if (bScalar) TensorPrimitives.Divide(a, b[0], y);
                else TensorPrimitives.Divide(a, b, y);
                return true;
            case BinaryOp.ReluGrad when !aScalar && !bScalar:
                ReluGradRow(a, b, y);
                return true;
            default:
                return false;
        }
    }

    /// <summary><see cref="UnaryOp.Step"/> on a vector: exactly 1 where x &gt; 0, else 0 (NaN included), as <see cref="ApplyUnary{T}"/>.</summary>
    internal static Vector<T> Step<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero);

    /// <summary>The same on a Vector256 (the fixed-width reductions use it).</summary>
    internal static Vector256<T> Step<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero);

    /// <summary>
    /// ReLU's backward on a row, y = g·step(gate), in SIMD: the same multiply by exactly 1 or 0 as the scalar
    /// <see cref="ApplyBinary{T}"/> (so −0 and NaN come out the same), which the tail uses.
    /// </summary>
    internal static void ReluGradRow<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> gate, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
            for (; j <= y.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                (new Vector<T>(g[j..]) * Step(new Vector<T>(gate[j..]))).CopyTo(y[j..]);
            }
        for (; j < y.Length; j++) y[j] = ApplyBinary(BinaryOp.ReluGrad, g[j], gate[j]);
    }
}
