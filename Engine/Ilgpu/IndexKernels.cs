using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Index ops on contiguous [outer, n, rest] views, indices uploaded per call. The accumulating ones give each
// thread one (outer, rest) column and walk the indices in order: deterministic sums without atomics.
internal sealed partial class IlgpuKernels
{
    /// <summary>x viewed [outer, n, rest], the indexed side [outer, m, rest]; offsets of source and destination.</summary>
    internal readonly record struct IndexShape(int Outer, int N, int M, int Rest, int SrcOffset, int DstOffset);

    private void IndexLaunch<T>(Action<Index1D, IndexShape, ArrayView<T>, ArrayView<int>, ArrayView<T>> kernel, Tensor src, int[] index, Tensor dst, IndexShape s, int count) where T : unmanaged
    {
        if (index.Length == 0 || count == 0) return;
        var i = device.Upload(index);
        var launch = device.Kernel(kernel, d => d.LoadAutoGroupedStreamKernel(kernel));
        launch(count, s, View<T>(src), IlgpuAccelerator.Typed<int>(i, index.Length), View<T>(dst));
        device.Return(i);
    }

    private void IndexOp(Action<Index1D, IndexShape, ArrayView<float>, ArrayView<int>, ArrayView<float>> f32,
        Action<Index1D, IndexShape, ArrayView<double>, ArrayView<int>, ArrayView<double>> f64, Tensor src, int[] index, Tensor dst, int outer, int n, int m, int rest, int count)
    {
        CheckDevice(src, dst);
        var s = new IndexShape(outer, n, m, rest, src.Offset, dst.Offset);
        if (IsFloat(dst)) IndexLaunch(f32, src, index, dst, s, count);
        else IndexLaunch(f64, src, index, dst, s, count);
    }

    public void IndexSelect(Tensor x, int[] index, Tensor y) =>
        IndexOp(IndexSelectKernel, IndexSelectKernel, x, index, y, x.Shape[0], x.Shape[1], index.Length, x.Shape[2], y.Count);

    public void IndexAdd(Tensor dy, int[] index, Tensor dx) =>
        IndexOp(IndexAddKernel, IndexAddKernel, dy, index, dx, dx.Shape[0], dx.Shape[1], index.Length, dx.Shape[2], dx.Shape[0] * dx.Shape[2]);

    public void Gather(Tensor x, int[] index, Tensor y) =>
        IndexOp(GatherKernel, GatherKernel, x, index, y, y.Shape[0], x.Shape[1], y.Shape[1], y.Shape[2], y.Count);

    public void ScatterAdd(Tensor dy, int[] index, Tensor dx) =>
        IndexOp(ScatterAddKernel, ScatterAddKernel, dy, index, dx, dy.Shape[0], dx.Shape[1], dy.Shape[1], dy.Shape[2], dy.Shape[0] * dy.Shape[2]);

    // y[o, j, r] = x[o, index[j], r].
    private static void IndexSelectKernel<T>(Index1D index, IndexShape s, ArrayView<T> x, ArrayView<int> idx, ArrayView<T> y) where T : unmanaged
    {
        int i = index;
        int r = i % s.Rest, j = i / s.Rest % s.M, o = i / (s.Rest * s.M);
        y[s.DstOffset + i] = x[s.SrcOffset + (o * s.N + idx[j]) * s.Rest + r];
    }

    // dx[o, index[j], r] += dy[o, j, r].
    private static void IndexAddKernel<T>(Index1D index, IndexShape s, ArrayView<T> dy, ArrayView<int> idx, ArrayView<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = index;
        int r = i % s.Rest, o = i / s.Rest;
        for (int j = 0; j < s.M; j++) dx[s.DstOffset + (o * s.N + idx[j]) * s.Rest + r] += dy[s.SrcOffset + (o * s.M + j) * s.Rest + r];
    }

    // y[o, j, r] = x[o, index[o, j, r], r].
    private static void GatherKernel<T>(Index1D index, IndexShape s, ArrayView<T> x, ArrayView<int> idx, ArrayView<T> y) where T : unmanaged
    {
        int i = index;
        int r = i % s.Rest, o = i / (s.Rest * s.M);
        y[s.DstOffset + i] = x[s.SrcOffset + (o * s.N + idx[i]) * s.Rest + r];
    }

    // dx[o, index[o, j, r], r] += dy[o, j, r].
    private static void ScatterAddKernel<T>(Index1D index, IndexShape s, ArrayView<T> dy, ArrayView<int> idx, ArrayView<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = index;
        int r = i % s.Rest, o = i / s.Rest;
        for (int j = 0; j < s.M; j++)
        {
            int e = (o * s.M + j) * s.Rest + r;
            dx[s.DstOffset + (o * s.N + idx[e]) * s.Rest + r] += dy[s.SrcOffset + e];
        }
    }
}
