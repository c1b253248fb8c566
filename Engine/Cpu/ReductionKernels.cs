using System.Numerics;
using System.Runtime.Intrinsics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    /// <summary>Rows are summed in blocks of this many elements; block partials are added in order.</summary>
    private const int SumBlock = 8192;

    public void SumLastAxis(Tensor x, Tensor y)
    {
        if (x.DType == DType.Float32) SumLastAxis<float>(x, y);
        else SumLastAxis<double>(x, y);
    }

    public void MaxLastAxis(Tensor x, Tensor y, int[] argmax)
    {
        if (x.DType == DType.Float32) MaxLastAxis<float>(x, y, argmax);
        else MaxLastAxis<double>(x, y, argmax);
    }

    // x is contiguous [rows, n]. The order of additions is fixed by n alone: blocks of SumBlock, each
    // with four Vector256 accumulators, then the block partials left to right.
    private void SumLastAxis<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.Shape[0], n = x.Shape[1];
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        int blocks = Math.Max(1, (n + SumBlock - 1) / SumBlock);
        var partial = new T[rows * blocks];
        CpuParallel.For(Threads, rows * blocks, CpuParallel.Grain(Math.Min(n, SumBlock)), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                int row = i / blocks, block = i % blocks;
                int start = block * SumBlock, length = Math.Min(SumBlock, n - start);
                partial[i] = length > 0 ? BlockSum<T>(xs.AsSpan(x.Offset + row * n + start, length)) : T.Zero;
            }
        });
        for (int row = 0; row < rows; row++)
        {
            T total = T.Zero;
            for (int b = 0; b < blocks; b++) total += partial[row * blocks + b];
            ys[y.Offset + row] = total;
        }
    }

    internal static T BlockSum<T>(ReadOnlySpan<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count, i = 0;
        var acc0 = Vector256<T>.Zero;
        var acc1 = Vector256<T>.Zero;
        var acc2 = Vector256<T>.Zero;
        var acc3 = Vector256<T>.Zero;
        for (; i + 4 * w <= v.Length; i += 4 * w)
        {
            acc0 += Vector256.Create(v.Slice(i, w));
            acc1 += Vector256.Create(v.Slice(i + w, w));
            acc2 += Vector256.Create(v.Slice(i + 2 * w, w));
            acc3 += Vector256.Create(v.Slice(i + 3 * w, w));
        }
        var acc = (acc0 + acc1) + (acc2 + acc3);
        T sum = T.Zero;
        for (int l = 0; l < w; l++) sum += acc[l];
        for (; i < v.Length; i++) sum += v[i];
        return sum;
    }

    /// <summary>Scalar reference: one left-to-right sum per row.</summary>
    internal static void ReferenceSumLastAxis<T>(T[] x, int rows, int n, T[] y) where T : IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            T s = T.Zero;
            for (int j = 0; j < n; j++) s += x[r * n + j];
            y[r] = s;
        }
    }

    private void MaxLastAxis<T>(Tensor x, Tensor y, int[] argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.Shape[0], n = x.Shape[1];
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        CpuParallel.For(Threads, rows, CpuParallel.Grain(n), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int start = x.Offset + r * n, best = 0;
                T m = xs[start];
                for (int j = 1; j < n && !T.IsNaN(m); j++)
                {
                    T v = xs[start + j];
                    if (v > m || T.IsNaN(v))
                    {
                        m = v;
                        best = j;
                    }
                }
                ys[y.Offset + r] = m;
                argmax[r] = best;
            }
        });
    }
}
