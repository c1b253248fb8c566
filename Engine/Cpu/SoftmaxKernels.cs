using System.Numerics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    public void Softmax(Tensor x, Tensor y, bool log)
    {
        if (x.DType == DType.Float32) Softmax<float>(x, y, log);
        else Softmax<double>(x, y, log);
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        if (y.DType == DType.Float32) SoftmaxBackward<float>(y, dy, dx, log);
        else SoftmaxBackward<double>(y, dy, dx, log);
    }

    // Rows of contiguous [rows, n]: subtract the row max, exponentiate, normalise; each row sequential.
    private void Softmax<T>(Tensor x, Tensor y, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.Shape[0], n = x.Shape[1];
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        CpuParallel.For(Threads, rows, CpuParallel.Grain(4L * n), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int xi = x.Offset + r * n, yi = y.Offset + r * n;
                T max = T.NegativeInfinity;
                for (int j = 0; j < n; j++) max = T.Max(max, xs[xi + j]);
                if (T.IsNegativeInfinity(max)) max = T.Zero; // an all −inf row gives NaN, as in PyTorch
                T sum = T.Zero;
                for (int j = 0; j < n; j++)
                {
                    T e = T.Exp(xs[xi + j] - max);
                    sum += e;
                    if (!log) ys[yi + j] = e;
                }
                if (log)
                {
                    T logSum = T.Log(sum) + max;
                    for (int j = 0; j < n; j++) ys[yi + j] = xs[xi + j] - logSum;
                }
                else
                {
                    T inv = T.One / sum;
                    for (int j = 0; j < n; j++) ys[yi + j] *= inv;
                }
            }
        });
    }

    // softmax:     dx = y ⊙ (dy − Σ dy⊙y)
    // log-softmax: dx = dy − exp(y) · Σ dy
    private void SoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = y.Shape[0], n = y.Shape[1];
        var ys = Data<T>(y);
        var gs = Data<T>(dy);
        var ds = Data<T>(dx);
        CpuParallel.For(Threads, rows, CpuParallel.Grain(4L * n), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int yi = y.Offset + r * n, gi = dy.Offset + r * n, di = dx.Offset + r * n;
                T dot = T.Zero;
                for (int j = 0; j < n; j++) dot += log ? gs[gi + j] : gs[gi + j] * ys[yi + j];
                for (int j = 0; j < n; j++)
                    ds[di + j] = log ? gs[gi + j] - T.Exp(ys[yi + j]) * dot : ys[yi + j] * (gs[gi + j] - dot);
            }
        });
    }
}
