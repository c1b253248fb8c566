using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Row reductions of a contiguous [rows, n]: one group per row (IlgpuAccelerator.ReductionGroup threads), each thread a strided
// slice, then a tree in shared memory. The order is fixed by n and the group size: deterministic, no atomics.
internal sealed partial class IlgpuKernels
{
    public void SumLastAxis(Tensor x, Tensor y)
    {
        CheckDevice(x, y);
        if (IsFloat(x)) SumLastAxis<float>(x, y);
        else SumLastAxis<double>(x, y);
    }

    private void SumLastAxis<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.Shape[0];
        if (rows == 0) return;
        var kernel = device.Kernel(SumRowsKernel<T>, d => d.LoadStreamKernel<int, ArrayView<T>, int, ArrayView<T>, int>(SumRowsKernel<T>));
        kernel(Rows<T>(rows), x.Shape[1], View<T>(x), x.Offset, View<T>(y), y.Offset);
    }

    private static void SumRowsKernel<T>(int n, ArrayView<T> x, int xOffset, ArrayView<T> y, int yOffset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int row = Grid.IdxX, t = Group.IdxX, start = xOffset + row * n;
        T s = T.Zero;
        for (int j = t; j < n; j += Group.DimX) s += x[start + j];
        s = GroupSum(part, s);
        if (t == 0) y[yOffset + row] = s;
    }

    /// <summary>Tree sum over the group in a fixed order; every thread gets the total.</summary>
    internal static T GroupSum<T>(ArrayView<T> part, T v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = Group.IdxX;
        part[t] = v;
        Group.Barrier();
        for (int w = Group.DimX / 2; w > 0; w >>= 1)
        {
            if (t < w) part[t] += part[t + w];
            Group.Barrier();
        }
        T r = part[0];
        Group.Barrier();
        return r;
    }

    internal static T GroupMax<T>(ArrayView<T> part, T v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = Group.IdxX;
        part[t] = v;
        Group.Barrier();
        for (int w = Group.DimX / 2; w > 0; w >>= 1)
        {
            if (t < w) part[t] = MaxNaN(part[t], part[t + w]);
            Group.Barrier();
        }
        T r = part[0];
        Group.Barrier();
        return r;
    }

    public void MaxLastAxis(Tensor x, Tensor y, int[] argmax)
    {
        CheckDevice(x, y);
        if (IsFloat(x)) MaxLastAxis<float>(x, y, argmax);
        else MaxLastAxis<double>(x, y, argmax);
    }

    private void MaxLastAxis<T>(Tensor x, Tensor y, int[] argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.Shape[0];
        if (rows == 0) return;
        var indices = device.Rent(rows * sizeof(int));
        try
        {
            var view = IlgpuAccelerator.Typed<int>(indices, rows);
            var kernel = device.Kernel(MaxRowsKernel<T>, d => d.LoadStreamKernel<int, ArrayView<T>, int, ArrayView<T>, int, ArrayView<int>>(MaxRowsKernel<T>));
            kernel(Rows<T>(rows), x.Shape[1], View<T>(x), x.Offset, View<T>(y), y.Offset, view);
            ((ArrayView1D<int, Stride1D.Dense>)view).CopyToCPU(device.Device.DefaultStream, argmax.AsSpan(0, rows));
        }
        finally
        {
            device.Return(indices);
        }
    }

    /// <summary>Whether (v, j) beats the best so far (m, best): larger, or equal and earlier; a NaN wins over numbers (the first NaN over later ones).</summary>
    private static bool Better<T>(T v, int j, T m, int best) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (best < 0) return true;
        if (T.IsNaN(v) || T.IsNaN(m)) return T.IsNaN(v) && (!T.IsNaN(m) || j < best);
        return v > m || (v == m && j < best);
    }

    private static void MaxRowsKernel<T>(int n, ArrayView<T> x, int xOffset, ArrayView<T> y, int yOffset, ArrayView<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = SharedMemory.GetDynamic<T>();
        var index = SharedMemory.Allocate<int>(IlgpuAccelerator.GpuReductionGroup);
        int row = Grid.IdxX, t = Group.IdxX, start = xOffset + row * n;
        T m = T.Zero;
        int best = -1;
        for (int j = t; j < n; j += Group.DimX)
            if (Better(x[start + j], j, m, best))
            {
                m = x[start + j];
                best = j;
            }
        value[t] = m;
        index[t] = best;
        Group.Barrier();
        for (int w = Group.DimX / 2; w > 0; w >>= 1)
        {
            if (t < w && index[t + w] >= 0 && Better(value[t + w], index[t + w], value[t], index[t]))
            {
                value[t] = value[t + w];
                index[t] = index[t + w];
            }
            Group.Barrier();
        }
        if (t == 0)
        {
            y[yOffset + row] = value[0];
            argmax[row] = index[0];
        }
    }
}
