using System.Numerics;

namespace IlgpuSeg.Engine;

// All four take contiguous rank-3 views [outer, n, rest]; the op layer checks the indices. Accumulating
// kernels run each outer slab in index order, so sums are deterministic.
internal sealed partial class CpuKernels
{
    public void IndexSelect(Tensor x, int[] index, Tensor y)
    {
        if (x.DType == DType.Float32) IndexSelect<float>(x, index, y);
        else IndexSelect<double>(x, index, y);
    }

    public void IndexAdd(Tensor dy, int[] index, Tensor dx)
    {
        if (dy.DType == DType.Float32) IndexAdd<float>(dy, index, dx);
        else IndexAdd<double>(dy, index, dx);
    }

    public void Gather(Tensor x, int[] index, Tensor y)
    {
        if (x.DType == DType.Float32) Gather<float>(x, index, y);
        else Gather<double>(x, index, y);
    }

    public void ScatterAdd(Tensor dy, int[] index, Tensor dx)
    {
        if (dy.DType == DType.Float32) ScatterAdd<float>(dy, index, dx);
        else ScatterAdd<double>(dy, index, dx);
    }

    private void IndexSelect<T>(Tensor x, int[] index, Tensor y) where T : unmanaged
    {
        int outer = x.Shape[0], n = x.Shape[1], rest = x.Shape[2], m = index.Length;
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        CpuParallel.For(Threads, outer * m, CpuParallel.Grain(rest), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                int o = i / m, j = i % m;
                xs.AsSpan(x.Offset + (o * n + index[j]) * rest, rest).CopyTo(ys.AsSpan(y.Offset + i * rest, rest));
            }
        });
    }

    private void IndexAdd<T>(Tensor dy, int[] index, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outer = dx.Shape[0], n = dx.Shape[1], rest = dx.Shape[2], m = index.Length;
        var gs = Data<T>(dy);
        var ds = Data<T>(dx);
        CpuParallel.For(Threads, outer, CpuParallel.Grain((long)m * rest), (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
                for (int j = 0; j < m; j++)
                {
                    int src = dy.Offset + (o * m + j) * rest, dst = dx.Offset + (o * n + index[j]) * rest;
                    for (int r = 0; r < rest; r++) ds[dst + r] += gs[src + r];
                }
        });
    }

    private void Gather<T>(Tensor x, int[] index, Tensor y) where T : unmanaged
    {
        int outer = y.Shape[0], m = y.Shape[1], rest = y.Shape[2], n = x.Shape[1];
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        CpuParallel.For(Threads, outer * m, CpuParallel.Grain(rest), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                int o = i / m;
                for (int r = 0; r < rest; r++)
                    ys[y.Offset + i * rest + r] = xs[x.Offset + (o * n + index[i * rest + r]) * rest + r];
            }
        });
    }

    private void ScatterAdd<T>(Tensor dy, int[] index, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outer = dy.Shape[0], m = dy.Shape[1], rest = dy.Shape[2], n = dx.Shape[1];
        var gs = Data<T>(dy);
        var ds = Data<T>(dx);
        CpuParallel.For(Threads, outer, CpuParallel.Grain((long)m * rest), (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
                for (int j = 0; j < m; j++)
                {
                    int i = o * m + j;
                    for (int r = 0; r < rest; r++)
                        ds[dx.Offset + (o * n + index[i * rest + r]) * rest + r] += gs[dy.Offset + i * rest + r];
                }
        });
    }
}
