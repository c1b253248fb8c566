using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Copy, fill and dtype casts over strided views (layout operand A = source, B = destination).
internal sealed partial class IlgpuKernels
{
    public void Copy(Tensor src, Tensor dst)
    {
        CheckDevice(src, dst);
        if (IsFloat(dst)) Copy<float>(src, dst);
        else Copy<double>(src, dst);
    }

    private void Copy<T>(Tensor src, Tensor dst) where T : unmanaged
    {
        if (dst.Count == 0) return;
        var kernel = device.Kernel(CopyKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, Layout, ArrayView<T>, ArrayView<T>>(CopyKernel<T>));
        kernel(dst.Count, Layout.Of(dst.Shape, src, dst), View<T>(src), View<T>(dst));
    }

    public void Cast(Tensor src, Tensor dst)
    {
        CheckDevice(src, dst);
        if (src.DType == dst.DType) Copy(src, dst);
        else if (dst.Count == 0) return;
        else if (IsFloat(src))
            device.Kernel(WidenKernel, d => d.LoadAutoGroupedStreamKernel<Index1D, Layout, ArrayView<float>, ArrayView<double>>(WidenKernel))
                (dst.Count, Layout.Of(dst.Shape, src, dst), View<float>(src), View<double>(dst));
        else
            device.Kernel(NarrowKernel, d => d.LoadAutoGroupedStreamKernel<Index1D, Layout, ArrayView<double>, ArrayView<float>>(NarrowKernel))
                (dst.Count, Layout.Of(dst.Shape, src, dst), View<double>(src), View<float>(dst));
    }

    private static void CopyKernel<T>(Index1D i, Layout l, ArrayView<T> src, ArrayView<T> dst) where T : unmanaged
    {
        l.Offsets(i, out int s, out int d, out _);
        dst[d] = src[s];
    }

    private static void WidenKernel(Index1D i, Layout l, ArrayView<float> src, ArrayView<double> dst)
    {
        l.Offsets(i, out int s, out int d, out _);
        dst[d] = src[s];
    }

    private static void NarrowKernel(Index1D i, Layout l, ArrayView<double> src, ArrayView<float> dst)
    {
        l.Offsets(i, out int s, out int d, out _);
        dst[d] = (float)src[s];
    }

    public void Fill(Tensor dst, double value)
    {
        CheckDevice(dst);
        if (IsFloat(dst)) Fill<float, Real32>(dst, value);
        else Fill<double, Real64>(dst, value);
    }

    private void Fill<T, R>(Tensor dst, double value) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (dst.Count == 0) return;
        var kernel = device.Kernel(FillKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, Layout, ArrayView<T>, T>(FillKernel<T>));
        kernel(dst.Count, Layout.Of(dst.Shape, dst), View<T>(dst), R.Of(value));
    }

    private static void FillKernel<T>(Index1D i, Layout l, ArrayView<T> dst, T value) where T : unmanaged
    {
        l.Offsets(i, out int d, out _, out _);
        dst[d] = value;
    }
}
