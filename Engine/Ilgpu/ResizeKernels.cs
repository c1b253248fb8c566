using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Bilinear resize of planes [P, H, W] → [P, Ho, Wo] with PyTorch's source-index rule, computed in the element
// type as the CPU backend does. The scales are computed on the host: (in − 1)/(out − 1) with align_corners,
// else in/out.
internal sealed partial class IlgpuKernels
{
    internal readonly record struct ResizeShape<T>(int Planes, int H, int W, int Ho, int Wo, T ScaleH, T ScaleW, int Align, int BigOffset, int SmallOffset)
        where T : unmanaged;

    private static ResizeShape<T> ResizeOf<T, R>(Tensor big, Tensor small, bool alignCorners) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int h = big.Shape[1], w = big.Shape[2], ho = small.Shape[1], wo = small.Shape[2];
        return new(big.Shape[0], h, w, ho, wo, Scale<T, R>(h, ho, alignCorners), Scale<T, R>(w, wo, alignCorners), alignCorners ? 1 : 0, big.Offset, small.Offset);
    }

    private static T Scale<T, R>(int inSize, int outSize, bool alignCorners) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T> =>
        alignCorners ? (outSize > 1 ? R.Of(inSize - 1) / R.Of(outSize - 1) : T.Zero) : R.Of(inSize) / R.Of(outSize);

    /// <summary>The lower source index of output o and the weight of the upper one.</summary>
    private static int BilinearTap<T, R>(T scale, int o, int align, out T upper) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        T half = T.One / (T.One + T.One);
        T src = align != 0 ? scale * R.Of(o) : scale * (R.Of(o) + half) - half;
        if (src < T.Zero) src = T.Zero;
        int lo = R.Truncate(src);
        T f = src - R.Of(lo);
        upper = f < T.Zero ? T.Zero : f > T.One ? T.One : f;
        return lo;
    }

    /// <summary>The weight output o gives input i along one axis of size n (both taps count when they coincide).</summary>
    private static T BilinearWeight<T, R>(T scale, int o, int n, int align, int i) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int lo = BilinearTap<T, R>(scale, o, align, out T l1);
        int hi = lo < n - 1 ? lo + 1 : lo;
        return (lo == i ? T.One - l1 : T.Zero) + (hi == i ? l1 : T.Zero);
    }

    public void ResizeBilinear(Tensor x, Tensor y, bool alignCorners)
    {
        CheckDevice(x, y);
        if (IsFloat(x)) ResizeBilinear<float, Real32>(x, y, alignCorners);
        else ResizeBilinear<double, Real64>(x, y, alignCorners);
    }

    private void ResizeBilinear<T, R>(Tensor x, Tensor y, bool alignCorners) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (y.Count == 0) return;
        var kernel = device.Kernel(ResizeKernel<T, R>, d => d.LoadAutoGroupedStreamKernel<Index1D, ResizeShape<T>, ArrayView<T>, ArrayView<T>>(ResizeKernel<T, R>));
        kernel(y.Count, ResizeOf<T, R>(x, y, alignCorners), View<T>(x), View<T>(y));
    }

    private static void ResizeKernel<T, R>(Index1D index, ResizeShape<T> g, ArrayView<T> x, ArrayView<T> y) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int i = index;
        int ow = i % g.Wo, oh = i / g.Wo % g.Ho, p = i / (g.Wo * g.Ho);
        int h0 = BilinearTap<T, R>(g.ScaleH, oh, g.Align, out T hl1), w0 = BilinearTap<T, R>(g.ScaleW, ow, g.Align, out T wl1);
        int h1 = h0 < g.H - 1 ? h0 + 1 : h0, w1 = w0 < g.W - 1 ? w0 + 1 : w0;
        T hl0 = T.One - hl1, wl0 = T.One - wl1;
        int plane = g.BigOffset + p * g.H * g.W;
        T top = x[plane + h0 * g.W + w0] * wl0 + x[plane + h0 * g.W + w1] * wl1;
        T bottom = x[plane + h1 * g.W + w0] * wl0 + x[plane + h1 * g.W + w1] * wl1;
        y[g.SmallOffset + i] = top * hl0 + bottom * hl1;
    }

    public void ResizeBilinearBackward(Tensor dy, Tensor dx, bool alignCorners)
    {
        CheckDevice(dy, dx);
        if (IsFloat(dy)) ResizeBilinearBackward<float, Real32>(dy, dx, alignCorners);
        else ResizeBilinearBackward<double, Real64>(dy, dx, alignCorners);
    }

    private void ResizeBilinearBackward<T, R>(Tensor dy, Tensor dx, bool alignCorners) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (dx.Count == 0) return;
        var kernel = device.Kernel(ResizeBackwardKernel<T, R>, d => d.LoadAutoGroupedStreamKernel<Index1D, ResizeShape<T>, ArrayView<T>, ArrayView<T>>(ResizeBackwardKernel<T, R>));
        kernel(dx.Count, ResizeOf<T, R>(dx, dy, alignCorners), View<T>(dy), View<T>(dx));
    }

    /// <summary>The outputs that can reach input i: source positions within one of i, widened by one for rounding.</summary>
    private static void BilinearCandidates<T, R>(T scale, int i, int outSize, int align, out int first, out int last)
        where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (scale <= T.Zero)
        {
            first = 0;
            last = outSize - 1;
            return;
        }
        T half = T.One / (T.One + T.One), threeHalves = T.One + half;
        T lo = align != 0 ? R.Of(i - 1) / scale : (R.Of(i) - half) / scale - half;
        T hi = align != 0 ? R.Of(i + 1) / scale : (R.Of(i) + threeHalves) / scale - half;
        first = Math.Max(R.Truncate(T.Floor(lo)) - 1, 0);
        last = Math.Min(R.Truncate(T.Ceiling(hi)) + 1, outSize - 1);
    }

    // dx[p, ih, iw] += Σ weight_h · weight_w · dy over the outputs reaching it: a gather, so no atomics.
    private static void ResizeBackwardKernel<T, R>(Index1D index, ResizeShape<T> g, ArrayView<T> dy, ArrayView<T> dx) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int i = index;
        int iw = i % g.W, ih = i / g.W % g.H, p = i / (g.W * g.H);
        BilinearCandidates<T, R>(g.ScaleH, ih, g.Ho, g.Align, out int oh0, out int oh1);
        BilinearCandidates<T, R>(g.ScaleW, iw, g.Wo, g.Align, out int ow0, out int ow1);
        int plane = g.SmallOffset + p * g.Ho * g.Wo;
        T sum = T.Zero;
        for (int oh = oh0; oh <= oh1; oh++)
        {
            T wh = BilinearWeight<T, R>(g.ScaleH, oh, g.H, g.Align, ih);
            if (wh == T.Zero) continue;
            for (int ow = ow0; ow <= ow1; ow++)
            {
                T ww = BilinearWeight<T, R>(g.ScaleW, ow, g.W, g.Align, iw);
                if (ww != T.Zero) sum += wh * ww * dy[plane + oh * g.Wo + ow];
            }
        }
        dx[g.BigOffset + i] += sum;
    }
}
