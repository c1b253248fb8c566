using System.Numerics;

namespace IlgpuSeg.Engine;

// Bilinear resize of planes [P, H, W] → [P, Ho, Wo] with PyTorch's rule (computed in the element type,
// as PyTorch's CPU kernel does): align_corners maps corner to corner with scale (in − 1)/(out − 1);
// otherwise pixel centres map with scale in/out, src = scale·(dst + ½) − ½, clamped at 0.
internal sealed partial class CpuKernels
{
    public void ResizeBilinear(Tensor x, Tensor y, bool alignCorners)
    {
        if (x.DType == DType.Float32) ResizeBilinear<float>(x, y, alignCorners, backward: false);
        else ResizeBilinear<double>(x, y, alignCorners, backward: false);
    }

    public void ResizeBilinearBackward(Tensor dy, Tensor dx, bool alignCorners)
    {
        if (dy.DType == DType.Float32) ResizeBilinear<float>(dx, dy, alignCorners, backward: true);
        else ResizeBilinear<double>(dx, dy, alignCorners, backward: true);
    }

    /// <summary>For each output index: the two source indices and their weights.</summary>
    internal static (int[] I0, int[] I1, T[] L0, T[] L1) LinearTaps<T>(int inSize, int outSize, bool alignCorners) where T : IFloatingPointIeee754<T>
    {
        T scale = alignCorners
            ? (outSize > 1 ? T.CreateTruncating(inSize - 1) / T.CreateTruncating(outSize - 1) : T.Zero)
            : T.CreateTruncating(inSize) / T.CreateTruncating(outSize);
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var l0 = new T[outSize];
        var l1 = new T[outSize];
        T half = T.CreateTruncating(0.5);
        for (int o = 0; o < outSize; o++)
        {
            T src = alignCorners ? scale * T.CreateTruncating(o) : scale * (T.CreateTruncating(o) + half) - half;
            if (src < T.Zero) src = T.Zero;
            int lo = int.CreateTruncating(src);
            i0[o] = lo;
            i1[o] = lo < inSize - 1 ? lo + 1 : lo;
            l1[o] = T.Clamp(src - T.CreateTruncating(lo), T.Zero, T.One);
            l0[o] = T.One - l1[o];
        }
        return (i0, i1, l0, l1);
    }

    // Forward: src = x, dst = y. Backward: src = dx (accumulated), dst = dy.
    private void ResizeBilinear<T>(Tensor src, Tensor dst, bool alignCorners, bool backward) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = src.Shape[0], h = src.Shape[1], w = src.Shape[2], ho = dst.Shape[1], wo = dst.Shape[2];
        var (hi0, hi1, hl0, hl1) = LinearTaps<T>(h, ho, alignCorners);
        var (wi0, wi1, wl0, wl1) = LinearTaps<T>(w, wo, alignCorners);
        var ss = Data<T>(src);
        var ds = Data<T>(dst);
        CpuParallel.For(Threads, planes, CpuParallel.Grain((long)ho * wo * 4), (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int sBase = src.Offset + p * h * w;
                for (int oh = 0; oh < ho; oh++)
                {
                    int r0 = sBase + hi0[oh] * w, r1 = sBase + hi1[oh] * w;
                    for (int ow = 0; ow < wo; ow++)
                    {
                        int o = dst.Offset + (p * ho + oh) * wo + ow;
                        int c0 = wi0[ow], c1 = wi1[ow];
                        if (backward)
                        {
                            T g = ds[o];
                            ss[r0 + c0] += hl0[oh] * wl0[ow] * g;
                            ss[r0 + c1] += hl0[oh] * wl1[ow] * g;
                            ss[r1 + c0] += hl1[oh] * wl0[ow] * g;
                            ss[r1 + c1] += hl1[oh] * wl1[ow] * g;
                            continue;
                        }
                        T top = ss[r0 + c0] * wl0[ow] + ss[r0 + c1] * wl1[ow];
                        T bottom = ss[r1 + c0] * wl0[ow] + ss[r1 + c1] * wl1[ow];
                        ds[o] = top * hl0[oh] + bottom * hl1[oh];
                    }
                }
            }
        });
    }
}
