using System.Numerics;

namespace IlgpuSeg.Engine;

// Softmax along the middle axis of a contiguous x viewed [outer, n, inner] (rank 2 is [rows, n], inner = 1). Each
// (outer, inner) line is reduced in the order j = 0, 1, …, n − 1 whatever the layout, so a channel softmax over
// [N, C, H, W] gives the bits of the same softmax on the permuted [N·H·W, C] rows. Lines with inner > 1 are walked
// a block of positions at a time, the j loop outside, so memory is read in order instead of with stride inner.
internal sealed partial class CpuKernels
{
    // Positions of a line block: the running max and sum for each stay in L1.
    private const int SoftmaxBlock = 256;

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

    private static (int Outer, int N, int Inner) SoftmaxLines(Tensor x) => (x.Shape[0], x.Shape[1], x.Rank == 3 ? x.Shape[2] : 1);

    // Per line: subtract the max, exponentiate, normalise (log: subtract log Σ exp + max).
    private void Softmax<T>(Tensor x, Tensor y, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, n, inner) = SoftmaxLines(x);
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        int blocks = (inner + SoftmaxBlock - 1) / SoftmaxBlock;
        CpuParallel.For(Threads, outer * blocks, CpuParallel.Grain(4L * n * Math.Min(inner, SoftmaxBlock)), (t0, t1) =>
        {
            Span<T> max = stackalloc T[SoftmaxBlock], sum = stackalloc T[SoftmaxBlock];
            for (int t = t0; t < t1; t++)
            {
                int o = t / blocks, i0 = t % blocks * SoftmaxBlock, w = Math.Min(SoftmaxBlock, inner - i0);
                int xb = x.Offset + o * n * inner + i0, yb = y.Offset + o * n * inner + i0;
                max[..w].Fill(T.NegativeInfinity);
                sum[..w].Clear();
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < w; i++) max[i] = T.Max(max[i], xs[xb + j * inner + i]);
                for (int i = 0; i < w; i++)
                    if (T.IsNegativeInfinity(max[i])) max[i] = T.Zero; // an all −inf line gives NaN, as in PyTorch
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < w; i++)
                    {
                        T e = T.Exp(xs[xb + j * inner + i] - max[i]);
                        sum[i] += e;
                        if (!log) ys[yb + j * inner + i] = e;
                    }
                if (log)
                {
                    for (int i = 0; i < w; i++) max[i] = T.Log(sum[i]) + max[i];
                    for (int j = 0; j < n; j++)
                        for (int i = 0; i < w; i++) ys[yb + j * inner + i] = xs[xb + j * inner + i] - max[i];
                }
                else
                {
                    for (int i = 0; i < w; i++) sum[i] = T.One / sum[i];
                    for (int j = 0; j < n; j++)
                        for (int i = 0; i < w; i++) ys[yb + j * inner + i] *= sum[i];
                }
            }
        });
    }

    // softmax:     dx = y ⊙ (dy − Σ dy⊙y)
    // log-softmax: dx = dy − exp(y) · Σ dy
    private void SoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, n, inner) = SoftmaxLines(y);
        var ys = Data<T>(y);
        var gs = Data<T>(dy);
        var ds = Data<T>(dx);
        int blocks = (inner + SoftmaxBlock - 1) / SoftmaxBlock;
        CpuParallel.For(Threads, outer * blocks, CpuParallel.Grain(4L * n * Math.Min(inner, SoftmaxBlock)), (t0, t1) =>
        {
            Span<T> dot = stackalloc T[SoftmaxBlock];
            for (int t = t0; t < t1; t++)
            {
                int o = t / blocks, i0 = t % blocks * SoftmaxBlock, w = Math.Min(SoftmaxBlock, inner - i0);
                int line = o * n * inner + i0, yb = y.Offset + line, gb = dy.Offset + line, db = dx.Offset + line;
                dot[..w].Clear();
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < w; i++) dot[i] += log ? gs[gb + j * inner + i] : gs[gb + j * inner + i] * ys[yb + j * inner + i];
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < w; i++)
                    {
                        T yv = ys[yb + j * inner + i], gv = gs[gb + j * inner + i];
                        ds[db + j * inner + i] = log ? gv - T.Exp(yv) * dot[i] : yv * (gv - dot[i]);
                    }
            }
        });
    }
}
