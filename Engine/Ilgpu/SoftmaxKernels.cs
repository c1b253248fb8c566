using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Softmax and log-softmax along rows of a contiguous [rows, n], one group per row (fixed-order trees).
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
        if (x.Shape[0] == 0) return;
        var kernel = device.Kernel(SoftmaxKernel<T>, d => d.LoadStreamKernel<int, int, ArrayView<T>, int, ArrayView<T>, int>(SoftmaxKernel<T>));
        kernel(Rows<T>(x.Shape[0]), x.Shape[1], log ? 1 : 0, View<T>(x), x.Offset, View<T>(y), y.Offset);
    }

    private static void SoftmaxKernel<T>(int n, int log, ArrayView<T> x, int xOffset, ArrayView<T> y, int yOffset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int t = Group.IdxX, xs = xOffset + Grid.IdxX * n, ys = yOffset + Grid.IdxX * n;
        T m = T.NegativeInfinity;
        for (int j = t; j < n; j += Group.DimX) m = MaxNaN(m, x[xs + j]);
        m = GroupMax(part, m);
        if (m == T.NegativeInfinity) m = T.Zero; // an all −inf row gives NaN, as in PyTorch
        T s = T.Zero;
        for (int j = t; j < n; j += Group.DimX) s += T.Exp(x[xs + j] - m);
        s = GroupSum(part, s);
        if (log != 0)
        {
            T logSum = T.Log(s) + m;
            for (int j = t; j < n; j += Group.DimX) y[ys + j] = x[xs + j] - logSum;
        }
        else
        {
            T inv = T.One / s;
            for (int j = t; j < n; j += Group.DimX) y[ys + j] = T.Exp(x[xs + j] - m) * inv;
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
        if (y.Shape[0] == 0) return;
        var kernel = device.Kernel(SoftmaxBackwardKernel<T>,
            d => d.LoadStreamKernel<int, int, ArrayView<T>, ArrayView<T>, ArrayView<T>, RowOffsets>(SoftmaxBackwardKernel<T>));
        kernel(Rows<T>(y.Shape[0]), y.Shape[1], log ? 1 : 0, View<T>(y), View<T>(dy), View<T>(dx), new RowOffsets(y.Offset, dy.Offset, dx.Offset));
    }

    internal readonly record struct RowOffsets(int A, int B, int C);

    // softmax: dx = y ⊙ (dy − Σ dy⊙y); log-softmax: dx = dy − exp(y) · Σ dy.
    private static void SoftmaxBackwardKernel<T>(int n, int log, ArrayView<T> y, ArrayView<T> dy, ArrayView<T> dx, RowOffsets o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int t = Group.IdxX, row = Grid.IdxX * n;
        T dot = T.Zero;
        for (int j = t; j < n; j += Group.DimX) dot += log != 0 ? dy[o.B + row + j] : dy[o.B + row + j] * y[o.A + row + j];
        dot = GroupSum(part, dot);
        for (int j = t; j < n; j += Group.DimX)
            dx[o.C + row + j] = log != 0 ? dy[o.B + row + j] - T.Exp(y[o.A + row + j]) * dot : y[o.A + row + j] * (dy[o.B + row + j] - dot);
    }
}
