using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Softmax and log-softmax along axis 1 of a contiguous [outer, n, inner], one group per line (outer, inner) with its n
// values inner apart (fixed-order trees).
internal sealed partial class IlgpuKernels
{
    public void Softmax(Tensor x, Tensor y, bool log)
    {
        CheckDevice(x, y);
        if (IsFloat(x)) Softmax<float>(x, y, log);
        else Softmax<double>(x, y, log);
    }

    private void Softmax<T>(Tensor x, Tensor y, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (lines, n, inner) = Lines(x);
        if (lines == 0) return;
        var kernel = device.Kernel(SoftmaxKernel<T>, d => d.LoadStreamKernel<SoftmaxLine, int, ArrayView<T>, int, ArrayView<T>, int>(SoftmaxKernel<T>));
        kernel(Rows<T>(lines), new SoftmaxLine(n, inner), log ? 1 : 0, View<T>(x), x.Offset, View<T>(y), y.Offset);
    }

    // Lines of the [outer, n, inner] view and their length and stride.
    private static (int Lines, int N, int Inner) Lines(Tensor x)
    {
        int inner = x.Rank == 3 ? x.Shape[2] : 1;
        return (x.Shape[0] * inner, x.Shape[1], inner);
    }

    /// <summary>A line's length and the stride between its values.</summary>
    internal readonly record struct SoftmaxLine(int N, int Inner)
    {
        // The first element of line Grid.IdxX: line (o, i) starts at o·n·inner + i.
        public int Start => Grid.IdxX / Inner * N * Inner + Grid.IdxX % Inner;
    }

    private static void SoftmaxKernel<T>(SoftmaxLine shape, int log, ArrayView<T> x, int xOffset, ArrayView<T> y, int yOffset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int n = shape.N, stride = shape.Inner, t = Group.IdxX, xs = xOffset + shape.Start, ys = yOffset + shape.Start;
        T m = T.NegativeInfinity;
        for (int j = t; j < n; j += Group.DimX) m = MaxNaN(m, x[xs + j * stride]);
        m = GroupMax(part, m);
        if (m == T.NegativeInfinity) m = T.Zero; // an all −inf line gives NaN, as in PyTorch
        T s = T.Zero;
        for (int j = t; j < n; j += Group.DimX) s += T.Exp(x[xs + j * stride] - m);
        s = GroupSum(part, s);
        if (log != 0)
        {
            T logSum = T.Log(s) + m;
            for (int j = t; j < n; j += Group.DimX) y[ys + j * stride] = x[xs + j * stride] - logSum;
        }
        else
        {
            T inv = T.One / s;
            for (int j = t; j < n; j += Group.DimX) y[ys + j * stride] = T.Exp(x[xs + j * stride] - m) * inv;
        }
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        CheckDevice(y, dy, dx);
        if (IsFloat(y)) SoftmaxBackward<float>(y, dy, dx, log);
        else SoftmaxBackward<double>(y, dy, dx, log);
    }

    private void SoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (lines, n, inner) = Lines(y);
        if (lines == 0) return;
        var kernel = device.Kernel(SoftmaxBackwardKernel<T>,
            d => d.LoadStreamKernel<SoftmaxLine, int, ArrayView<T>, ArrayView<T>, ArrayView<T>, RowOffsets>(SoftmaxBackwardKernel<T>));
        kernel(Rows<T>(lines), new SoftmaxLine(n, inner), log ? 1 : 0, View<T>(y), View<T>(dy), View<T>(dx), new RowOffsets(y.Offset, dy.Offset, dx.Offset));
    }

    internal readonly record struct RowOffsets(int A, int B, int C);

    // softmax: dx = y ⊙ (dy − Σ dy⊙y); log-softmax: dx = dy − exp(y) · Σ dy.
    private static void SoftmaxBackwardKernel<T>(SoftmaxLine shape, int log, ArrayView<T> y, ArrayView<T> dy, ArrayView<T> dx, RowOffsets o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int n = shape.N, stride = shape.Inner, t = Group.IdxX, line = shape.Start;
        T dot = T.Zero;
        for (int j = t; j < n; j += Group.DimX)
        {
            int k = line + j * stride;
            dot += log != 0 ? dy[o.B + k] : dy[o.B + k] * y[o.A + k];
        }
        dot = GroupSum(part, dot);
        for (int j = t; j < n; j += Group.DimX)
        {
            int k = line + j * stride;
            dx[o.C + k] = log != 0 ? dy[o.B + k] - T.Exp(y[o.A + k]) * dot : y[o.A + k] * (dy[o.B + k] - dot);
        }
    }
}
