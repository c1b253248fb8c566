using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Pooling over planes x [P, H, W] → y [P, Ho, Wo]. The backward passes gather or walk a plane in output
// order, so every sum has a fixed order without atomics.
internal sealed partial class IlgpuKernels
{
    internal readonly record struct PoolShape(int Planes, int H, int W, int Ho, int Wo, int Size, int Stride, int Padding, int Adaptive, int BigOffset, int SmallOffset)
    {
        public static PoolShape Of(Tensor big, Tensor small, Pool2dGeometry g, bool adaptive) =>
            new(big.Shape[0], big.Shape[1], big.Shape[2], small.Shape[1], small.Shape[2], g.Kernel, g.Stride, g.Padding, adaptive ? 1 : 0, big.Offset, small.Offset);
    }

    public void MaxPool2d(Tensor x, Tensor y, int[] argmax, Pool2dGeometry g)
    {
        CheckDevice(x, y);
        if (IsFloat(x)) MaxPool2d<float>(x, y, argmax, g);
        else MaxPool2d<double>(x, y, argmax, g);
    }

    private void MaxPool2d<T>(Tensor x, Tensor y, int[] argmax, Pool2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = y.Count;
        if (count == 0) return;
        var indices = device.Rent(count * sizeof(int));
        try
        {
            var view = IlgpuAccelerator.Typed<int>(indices, count);
            var kernel = device.Kernel(MaxPoolKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, PoolShape, ArrayView<T>, ArrayView<T>, ArrayView<int>>(MaxPoolKernel<T>));
            kernel(count, PoolShape.Of(x, y, g, false), View<T>(x), View<T>(y), view);
            ((ArrayView1D<int, Stride1D.Dense>)view).CopyToCPU(device.Device.DefaultStream, argmax.AsSpan(0, count));
        }
        finally
        {
            device.Return(indices);
        }
    }

    private static void MaxPoolKernel<T>(Index1D index, PoolShape g, ArrayView<T> x, ArrayView<T> y, ArrayView<int> argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = index;
        int ow = i % g.Wo, oh = i / g.Wo % g.Ho, p = i / (g.Wo * g.Ho);
        int h0 = oh * g.Stride - g.Padding, w0 = ow * g.Stride - g.Padding;
        int h1 = Math.Min(h0 + g.Size, g.H), w1 = Math.Min(w0 + g.Size, g.W);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        int plane = g.BigOffset + p * g.H * g.W;
        T best = T.NegativeInfinity;
        int bestIndex = h0 * g.W + w0;
        bool nan = false;
        for (int ih = h0; ih < h1 && !nan; ih++)
            for (int iw = w0; iw < w1 && !nan; iw++)
            {
                T v = x[plane + ih * g.W + iw];
                if (v > best || T.IsNaN(v))
                {
                    best = v;
                    bestIndex = ih * g.W + iw;
                    nan = T.IsNaN(v); // NaN propagates, as in PyTorch
                }
            }
        y[g.SmallOffset + i] = best;
        argmax[i] = bestIndex;
    }

    public void MaxPool2dBackward(Tensor dy, int[] argmax, Tensor dx)
    {
        CheckDevice(dy, dx);
        if (IsFloat(dy)) MaxPool2dBackward<float>(dy, argmax, dx);
        else MaxPool2dBackward<double>(dy, argmax, dx);
    }

    private void MaxPool2dBackward<T>(Tensor dy, int[] argmax, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = dy.Shape[0];
        if (argmax.Length == 0 || planes == 0) return;
        var indices = device.Upload(argmax);
        var kernel = device.Kernel(MaxPoolBackwardKernel<T>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<T>, int, ArrayView<int>, ArrayView<T>, int>(MaxPoolBackwardKernel<T>));
        kernel(planes, dy.Shape[1] * dy.Shape[2], dx.Shape[1] * dx.Shape[2], View<T>(dy), dy.Offset, IlgpuAccelerator.Typed<int>(indices, argmax.Length), View<T>(dx), dx.Offset);
        device.Return(indices);
    }

    // One thread per plane adds dy into dx[argmax] in output order (windows may overlap).
    private static void MaxPoolBackwardKernel<T>(Index1D p, int outPlane, int inPlane, ArrayView<T> dy, int dyOffset, ArrayView<int> argmax, ArrayView<T> dx, int dxOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < outPlane; i++) dx[dxOffset + p * inPlane + argmax[p * outPlane + i]] += dy[dyOffset + p * outPlane + i];
    }

    public void AvgPool2d(Tensor x, Tensor y, Pool2dGeometry g, bool adaptive)
    {
        CheckDevice(x, y);
        if (IsFloat(x)) AvgPool2d<float, Real32>(x, y, g, adaptive);
        else AvgPool2d<double, Real64>(x, y, g, adaptive);
    }

    private void AvgPool2d<T, R>(Tensor x, Tensor y, Pool2dGeometry g, bool adaptive) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (y.Count == 0) return;
        var kernel = device.Kernel(AvgPoolKernel<T, R>, d => d.LoadAutoGroupedStreamKernel<Index1D, PoolShape, ArrayView<T>, ArrayView<T>>(AvgPoolKernel<T, R>));
        kernel(y.Count, PoolShape.Of(x, y, g, adaptive), View<T>(x), View<T>(y));
    }

    /// <summary>
    /// The window of output index o along an axis of size n: count_include_pad clips to the padded extent for the
    /// divisor and to the input for the sum; adaptive uses [⌊o·n/out⌋, ⌈(o+1)·n/out⌉).
    /// </summary>
    private static void PoolWindow(PoolShape g, int o, int n, int outSize, out int start, out int end, out int divisor)
    {
        if (g.Adaptive != 0)
        {
            start = o * n / outSize;
            end = ((o + 1) * n + outSize - 1) / outSize;
            divisor = end - start;
            return;
        }
        int s = o * g.Stride - g.Padding, e = Math.Min(s + g.Size, n + g.Padding);
        divisor = e - s;
        start = Math.Max(s, 0);
        end = Math.Min(e, n);
    }

    private static void AvgPoolKernel<T, R>(Index1D index, PoolShape g, ArrayView<T> x, ArrayView<T> y) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int i = index;
        int ow = i % g.Wo, oh = i / g.Wo % g.Ho, p = i / (g.Wo * g.Ho);
        PoolWindow(g, oh, g.H, g.Ho, out int h0, out int h1, out int hd);
        PoolWindow(g, ow, g.W, g.Wo, out int w0, out int w1, out int wd);
        int plane = g.BigOffset + p * g.H * g.W;
        T sum = T.Zero;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++) sum += x[plane + ih * g.W + iw];
        y[g.SmallOffset + i] = sum / R.Of(hd * wd);
    }

    public void AvgPool2dBackward(Tensor dy, Tensor dx, Pool2dGeometry g, bool adaptive)
    {
        CheckDevice(dy, dx);
        if (IsFloat(dy)) AvgPool2dBackward<float, Real32>(dy, dx, g, adaptive);
        else AvgPool2dBackward<double, Real64>(dy, dx, g, adaptive);
    }

    private void AvgPool2dBackward<T, R>(Tensor dy, Tensor dx, Pool2dGeometry g, bool adaptive) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (dx.Count == 0) return;
        var kernel = device.Kernel(AvgPoolBackwardKernel<T, R>, d => d.LoadAutoGroupedStreamKernel<Index1D, PoolShape, ArrayView<T>, ArrayView<T>>(AvgPoolBackwardKernel<T, R>));
        kernel(dx.Count, PoolShape.Of(dx, dy, g, adaptive), View<T>(dy), View<T>(dx));
    }

    /// <summary>The outputs whose windows may hold input index i along an axis: all for adaptive windows, else start ≤ i &lt; start + kernel.</summary>
    private static void PoolCandidates(PoolShape g, int i, int outSize, out int first, out int last)
    {
        if (g.Adaptive != 0)
        {
            first = 0;
            last = outSize - 1;
            return;
        }
        int t = i + g.Padding;
        first = t < g.Size ? 0 : (t - g.Size) / g.Stride + 1;
        last = Math.Min(t / g.Stride, outSize - 1);
    }

    // dx[p, ih, iw] += Σ dy[p, oh, ow] / divisor over the windows holding (ih, iw), in output order.
    private static void AvgPoolBackwardKernel<T, R>(Index1D index, PoolShape g, ArrayView<T> dy, ArrayView<T> dx) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int i = index;
        int iw = i % g.W, ih = i / g.W % g.H, p = i / (g.W * g.H);
        PoolCandidates(g, ih, g.Ho, out int oh0, out int oh1);
        PoolCandidates(g, iw, g.Wo, out int ow0, out int ow1);
        int plane = g.SmallOffset + p * g.Ho * g.Wo;
        T sum = T.Zero;
        for (int oh = oh0; oh <= oh1; oh++)
        {
            PoolWindow(g, oh, g.H, g.Ho, out int h0, out int h1, out int hd);
            if (ih < h0 || ih >= h1) continue;
            for (int ow = ow0; ow <= ow1; ow++)
            {
                PoolWindow(g, ow, g.W, g.Wo, out int w0, out int w1, out int wd);
                if (iw < w0 || iw >= w1) continue;
                sum += dy[plane + oh * g.Wo + ow] / R.Of(hd * wd);
            }
        }
        dx[g.BigOffset + i] += sum;
    }
}
