using System.Numerics;

namespace IlgpuSeg.Engine;

// Pooling over planes: x [P, H, W] → y [P, Ho, Wo], one worker per plane in the backward passes so
// overlapping windows add in a fixed order.
internal sealed partial class CpuKernels
{
    public void MaxPool2d(Tensor x, Tensor y, int[] argmax, Pool2dGeometry g)
    {
        if (x.DType == DType.Float32) MaxPool2d<float>(x, y, argmax, g);
        else MaxPool2d<double>(x, y, argmax, g);
    }

    public void MaxPool2dBackward(Tensor dy, int[] argmax, Tensor dx)
    {
        if (dy.DType == DType.Float32) MaxPool2dBackward<float>(dy, argmax, dx);
        else MaxPool2dBackward<double>(dy, argmax, dx);
    }

    public void AvgPool2d(Tensor x, Tensor y, Pool2dGeometry g, bool adaptive)
    {
        if (x.DType == DType.Float32) AvgPool2d<float>(x, y, g, adaptive, backward: false);
        else AvgPool2d<double>(x, y, g, adaptive, backward: false);
    }

    public void AvgPool2dBackward(Tensor dy, Tensor dx, Pool2dGeometry g, bool adaptive)
    {
        if (dy.DType == DType.Float32) AvgPool2d<float>(dx, dy, g, adaptive, backward: true);
        else AvgPool2d<double>(dx, dy, g, adaptive, backward: true);
    }

    private void MaxPool2d<T>(Tensor x, Tensor y, int[] argmax, Pool2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = x.Shape[0], h = x.Shape[1], w = x.Shape[2], ho = y.Shape[1], wo = y.Shape[2];
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        CpuParallel.For(Threads, planes, CpuParallel.Grain((long)ho * wo * g.Kernel * g.Kernel), (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int xBase = x.Offset + p * h * w;
                for (int oh = 0; oh < ho; oh++)
                    for (int ow = 0; ow < wo; ow++)
                    {
                        int h0 = oh * g.Stride - g.Padding, w0 = ow * g.Stride - g.Padding;
                        int h1 = Math.Min(h0 + g.Kernel, h), w1 = Math.Min(w0 + g.Kernel, w);
                        h0 = Math.Max(h0, 0);
                        w0 = Math.Max(w0, 0);
                        T best = T.NegativeInfinity;
                        int bestIndex = h0 * w + w0;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++)
                            {
                                T v = xs[xBase + ih * w + iw];
                                if (v > best || T.IsNaN(v))
                                {
                                    best = v;
                                    bestIndex = ih * w + iw;
                                    if (T.IsNaN(v)) goto done; // NaN propagates, as in PyTorch
                                }
                            }
                        done:
                        int o = (p * ho + oh) * wo + ow;
                        ys[y.Offset + o] = best;
                        argmax[o] = bestIndex;
                    }
            }
        });
    }

    private void MaxPool2dBackward<T>(Tensor dy, int[] argmax, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = dy.Shape[0], outPlane = dy.Shape[1] * dy.Shape[2], inPlane = dx.Shape[1] * dx.Shape[2];
        var gs = Data<T>(dy);
        var ds = Data<T>(dx);
        CpuParallel.For(Threads, planes, CpuParallel.Grain(outPlane), (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
                for (int i = 0; i < outPlane; i++)
                    ds[dx.Offset + p * inPlane + argmax[p * outPlane + i]] += gs[dy.Offset + p * outPlane + i];
        });
    }

    /// <summary>
    /// The window of output index i along an axis of size n: count_include_pad average pooling clips to the
    /// padded extent for the divisor and to the input for the sum; adaptive pooling uses
    /// [⌊i·n/out⌋, ⌈(i+1)·n/out⌉).
    /// </summary>
    private static (int Start, int End, int Divisor) Window(int i, int n, int outSize, Pool2dGeometry g, bool adaptive)
    {
        if (adaptive)
        {
            int s = (int)((long)i * n / outSize), e = (int)(((long)(i + 1) * n + outSize - 1) / outSize);
            return (s, e, e - s);
        }
        int start = i * g.Stride - g.Padding, end = Math.Min(start + g.Kernel, n + g.Padding);
        int divisor = end - start;
        return (Math.Max(start, 0), Math.Min(end, n), divisor);
    }

    // Forward: big = x, small = y. Backward: big = dx (accumulated), small = dy.
    private void AvgPool2d<T>(Tensor big, Tensor small, Pool2dGeometry g, bool adaptive, bool backward) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = big.Shape[0], h = big.Shape[1], w = big.Shape[2], ho = small.Shape[1], wo = small.Shape[2];
        var bs = Data<T>(big);
        var ss = Data<T>(small);
        CpuParallel.For(Threads, planes, CpuParallel.Grain((long)h * w * 2), (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int bBase = big.Offset + p * h * w;
                for (int oh = 0; oh < ho; oh++)
                {
                    var (h0, h1, hd) = Window(oh, h, ho, g, adaptive);
                    for (int ow = 0; ow < wo; ow++)
                    {
                        var (w0, w1, wd) = Window(ow, w, wo, g, adaptive);
                        T divisor = T.CreateTruncating(hd * wd);
                        int o = small.Offset + (p * ho + oh) * wo + ow;
                        if (backward)
                        {
                            T share = ss[o] / divisor;
                            for (int ih = h0; ih < h1; ih++)
                                for (int iw = w0; iw < w1; iw++) bs[bBase + ih * w + iw] += share;
                            continue;
                        }
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += bs[bBase + ih * w + iw];
                        ss[o] = sum / divisor;
                    }
                }
            }
        });
    }
}
