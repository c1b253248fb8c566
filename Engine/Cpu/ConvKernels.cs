using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuSeg.Engine;

// Convolution as GEMM over im2col columns. The columns are built a few input channels at a time so
// the workspace stays under ColumnBudget elements (a 2048-channel 3×3 layer is never unrolled whole);
// each slab's GEMM accumulates into the output. A 1×1, stride-1, unpadded convolution needs no columns:
// the input planes are already the column matrices, one column group per image of a single GEMM. Slab
// sizes depend only on the shapes, so results are the same for any thread count.
// Dilated 3×3 convolutions on small maps (ASPP: dilation 12–36 on 32×32) read mostly padding; those run tap
// by tap over the output rectangle where each tap reads the image (ConvTapKernels.cs). 3×3 stride-1 convolutions
// with enough channels and a dilation small against the map run as Winograd F(2×2, 3×3) first (WinogradKernels.cs).
internal sealed partial class CpuKernels
{
    private const int ColumnBudget = 1 << 21;

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dGeometry g)
    {
        if (x.DType == DType.Float32) Conv2d<float>(x, w, bias, y, g);
        else Conv2d<double>(x, w, bias, y, g);
    }

    public void Conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dGeometry g)
    {
        if (dy.DType == DType.Float32) Conv2dBackwardInput<float>(dy, w, dx, g);
        else Conv2dBackwardInput<double>(dy, w, dx, g);
    }

    public void Conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Conv2dGeometry g)
    {
        if (x.DType == DType.Float32) Conv2dBackwardWeight<float>(x, dy, dw, g);
        else Conv2dBackwardWeight<double>(x, dy, dw, g);
    }

    /// <summary>The sizes every conv kernel needs, read from x [N, C, H, W] and w [O, C, kh, kw].</summary>
    internal readonly record struct ConvShape(int N, int C, int H, int W, int O, int Kh, int Kw, int Ho, int Wo, Conv2dGeometry G)
    {
        public static ConvShape Of(int[] x, int[] w, Conv2dGeometry g) =>
            new(x[0], x[1], x[2], x[3], w[0], w[2], w[3], g.OutH(x[2], w[2]), g.OutW(x[3], w[3]), g);

        public int Plane => H * W;
        public int P => Ho * Wo;
        public int Kk => Kh * Kw;
        public int Ckk => C * Kh * Kw;
        public bool Pointwise => Kh == 1 && Kw == 1 && G.StrideH == 1 && G.StrideW == 1 && G.PadH == 0 && G.PadW == 0;

        /// <summary>Input channels per im2col slab.</summary>
        public int ChannelSlab => Math.Clamp(ColumnBudget / Math.Max(1, Kk * P), 1, C);
    }

    private unsafe void Conv2d<T>(Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = ConvShape.Of(x.Shape, w.Shape, g);
        if (UsesWinograd(s))
        {
            WinogradConv2d<T>(x, w, y, s);
            if (bias != null) AddChannelBias<T>(y, bias);
            return;
        }
        if (LiveTaps(s) is { } taps)
        {
            TapConv2d<T>(x, w, y, s, taps);
            if (bias != null) AddChannelBias<T>(y, bias);
            return;
        }
        var col = s.Pointwise ? [] : Workspace<T>.Get(s.ChannelSlab * s.Kk * s.P, Accelerator);
        fixed (T* px0 = Data<T>(x), pw0 = Data<T>(w), py0 = Data<T>(y), pcol = col)
        {
            T* px = px0 + x.Offset, pw = pw0 + w.Offset, py = py0 + y.Offset;
            // Pointwise: every image's plane is a column group of one GEMM, so the weights are packed once.
            if (s.Pointwise)
                RunGemm(false, false, s.O, s.N * s.P, s.C, pw, s.Ckk, px, s.Plane, false, py, s.P,
                    groups: s.N, bGroupStride: (long)s.C * s.Plane, cGroupStride: (long)s.O * s.P);
            else
                for (int n = 0; n < s.N; n++)
                {
                    T* xn = px + (long)n * s.C * s.Plane, yn = py + (long)n * s.O * s.P;
                    for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
                    {
                        int c1 = Math.Min(s.C, c0 + s.ChannelSlab);
                        Im2Col(xn, c0, c1, s, pcol);
                        RunGemm(false, false, s.O, s.P, (c1 - c0) * s.Kk, pw + c0 * s.Kk, s.Ckk, pcol, s.P, c0 > 0, yn, s.P);
                    }
                }
        }
        if (bias != null) AddChannelBias<T>(y, bias);
    }

    private unsafe void Conv2dBackwardInput<T>(Tensor dy, Tensor w, Tensor dx, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = ConvShape.Of(dx.Shape, w.Shape, g);
        if (UsesWinograd(s))
        {
            WinogradConv2dBackwardInput<T>(dy, w, dx, s);
            return;
        }
        if (LiveTaps(s) is { } taps)
        {
            TapConv2dBackwardInput<T>(dy, w, dx, s, taps);
            return;
        }
        var col = s.Pointwise ? [] : Workspace<T>.Get(s.ChannelSlab * s.Kk * s.P, Accelerator);
        fixed (T* pdy0 = Data<T>(dy), pw0 = Data<T>(w), pdx0 = Data<T>(dx), pcol = col)
        {
            T* pdy = pdy0 + dy.Offset, pw = pw0 + w.Offset, pdx = pdx0 + dx.Offset;
            // Pointwise: dx = Wᵀ · dy, one GEMM with a column group per image.
            if (s.Pointwise)
                RunGemm(true, false, s.C, s.N * s.P, s.O, pw, s.Ckk, pdy, s.P, false, pdx, s.Plane,
                    groups: s.N, bGroupStride: (long)s.O * s.P, cGroupStride: (long)s.C * s.Plane);
            else
                for (int n = 0; n < s.N; n++)
                {
                    T* dyn = pdy + (long)n * s.O * s.P, dxn = pdx + (long)n * s.C * s.Plane;
                    // dcol = W[:, slab]ᵀ · dy, then scatter-add the columns back onto the slab's input channels.
                    for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
                    {
                        int c1 = Math.Min(s.C, c0 + s.ChannelSlab);
                        RunGemm(true, false, (c1 - c0) * s.Kk, s.P, s.O, pw + c0 * s.Kk, s.Ckk, dyn, s.P, false, pcol, s.P);
                        Col2Im(pcol, c0, c1, s, dxn);
                    }
                }
        }
    }

    private unsafe void Conv2dBackwardWeight<T>(Tensor x, Tensor dy, Tensor dw, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = ConvShape.Of(x.Shape, dw.Shape, g);
        if (UsesWinograd(s))
        {
            WinogradConv2dBackwardWeight<T>(x, dy, dw, s);
            return;
        }
        if (LiveTaps(s) is { } taps)
        {
            TapConv2dBackwardWeight<T>(x, dy, dw, s, taps);
            return;
        }
        var col = s.Pointwise ? [] : Workspace<T>.Get(s.ChannelSlab * s.Kk * s.P, Accelerator);
        fixed (T* px0 = Data<T>(x), pdy0 = Data<T>(dy), pdw0 = Data<T>(dw), pcol = col)
        {
            T* px = px0 + x.Offset, pdy = pdy0 + dy.Offset, pdw = pdw0 + dw.Offset;
            // dW[:, slab] (+)= dy[n] · col[slab]ᵀ, images in order.
            for (int n = 0; n < s.N; n++)
            {
                T* xn = px + (long)n * s.C * s.Plane, dyn = pdy + (long)n * s.O * s.P;
                if (s.Pointwise)
                {
                    RunGemm(false, true, s.O, s.C, s.P, dyn, s.P, xn, s.Plane, n > 0, pdw, s.Ckk);
                    continue;
                }
                for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
                {
                    int c1 = Math.Min(s.C, c0 + s.ChannelSlab);
                    Im2Col(xn, c0, c1, s, pcol);
                    RunGemm(false, true, s.O, (c1 - c0) * s.Kk, s.P, dyn, s.P, pcol, s.P, n > 0, pdw + c0 * s.Kk, s.Ckk);
                }
            }
        }
    }

    /// <summary>Column row (c − c0)·kk + ki·kw + kj holds input channel c at offset (ki, kj) for every output position.</summary>
    private unsafe void Im2Col<T>(T* xn, int c0, int c1, ConvShape s, T* col) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint xBase = (nint)xn, colBase = (nint)col;
        CpuParallel.For(Threads, (c1 - c0) * s.Kk, CpuParallel.Grain(s.P), (r0, r1) =>
        {
            T* x = (T*)xBase;
            for (int r = r0; r < r1; r++)
            {
                int c = c0 + r / s.Kk, ki = r % s.Kk / s.Kw, kj = r % s.Kw;
                ShiftedRows(x + (long)c * s.Plane, ki, kj, s, (T*)colBase + (long)r * s.P);
            }
        });
    }

    /// <summary>Adds columns back onto input channels c0..c1; one worker per channel keeps the sums ordered.</summary>
    private unsafe void Col2Im<T>(T* col, int c0, int c1, ConvShape s, T* dxn) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint colBase = (nint)col, dxBase = (nint)dxn;
        CpuParallel.For(Threads, c1 - c0, CpuParallel.Grain((long)s.Kk * s.P), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                T* plane = (T*)dxBase + (long)(c0 + i) * s.Plane;
                for (int k = 0; k < s.Kk; k++)
                    AddShiftedRows((T*)colBase + ((long)i * s.Kk + k) * s.P, k / s.Kw, k % s.Kw, s, plane);
            }
        });
    }

    /// <summary>
    /// One column row: dst[oh·Wo + ow] = plane[ih, iw] for tap (ki, kj), where (ih, iw) is where that tap reads
    /// for output (oh, ow), and 0 where it reads padding.
    /// </summary>
    private static unsafe void ShiftedRows<T>(T* plane, int ki, int kj, ConvShape s, T* dst) where T : unmanaged
    {
        var g = s.G;
        int iw0 = -g.PadW + kj * g.DilationW;
        var (lo, hi) = InsideColumns(iw0, g.StrideW, s.W, s.Wo);
        for (int oh = 0; oh < s.Ho; oh++)
        {
            int ih = oh * g.StrideH - g.PadH + ki * g.DilationH;
            T* row = dst + oh * s.Wo;
            if ((uint)ih >= (uint)s.H)
            {
                Rows.Clear(row, s.Wo);
                continue;
            }
            T* src = plane + ih * s.W;
            Rows.Clear(row, lo);
            if (g.StrideW == 1) Rows.Copy(src + iw0 + lo, row + lo, hi - lo);
            else if (g.StrideW == 2 && typeof(T) == typeof(float)) EvenColumns((float*)src + iw0 + 2 * lo, (float*)row + lo, hi - lo);
            else for (int ow = lo; ow < hi; ow++) row[ow] = src[iw0 + ow * g.StrideW];
            Rows.Clear(row + hi, s.Wo - hi);
        }
    }

    private static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>dst[i] = src[2i] for i &lt; count (stride-2 columns), sixteen at a time from two vectors on AVX-512.</summary>
    private static unsafe void EvenColumns(float* src, float* dst, int count)
    {
        int i = 0;
        // Stop one short so the second load never reads past src[2·count − 2], the last element used.
        if (Avx512F.IsSupported)
            for (; i + 17 <= count; i += 16)
                Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * i), EvenLanes, Vector512.Load(src + 2 * i + 16)), dst + i);
        for (; i < count; i++) dst[i] = src[2 * i];
    }

    /// <summary>The adjoint of <see cref="ShiftedRows"/>: adds one column row onto the input plane where tap (ki, kj) read it.</summary>
    private static unsafe void AddShiftedRows<T>(T* src, int ki, int kj, ConvShape s, T* plane) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = s.G;
        int iw0 = -g.PadW + kj * g.DilationW;
        var (lo, hi) = InsideColumns(iw0, g.StrideW, s.W, s.Wo);
        for (int oh = 0; oh < s.Ho; oh++)
        {
            int ih = oh * g.StrideH - g.PadH + ki * g.DilationH;
            if ((uint)ih >= (uint)s.H) continue;
            T* dst = plane + ih * s.W;
            T* row = src + oh * s.Wo;
            if (g.StrideW == 1) Rows.Add(row + lo, dst + iw0 + lo, hi - lo);
            else for (int ow = lo; ow < hi; ow++) dst[iw0 + ow * g.StrideW] += row[ow];
        }
    }

    /// <summary>The output columns [lo, hi) whose input column iw0 + ow·stride lies inside [0, width) (rows alike).</summary>
    private static (int Lo, int Hi) InsideColumns(int iw0, int stride, int width, int outWidth)
    {
        int lo = iw0 >= 0 ? 0 : (-iw0 + stride - 1) / stride;
        int hi = iw0 >= width ? 0 : (width - iw0 + stride - 1) / stride;
        lo = Math.Min(lo, outWidth);
        return (lo, Math.Clamp(hi, lo, outWidth));
    }

    /// <summary>y[n, o, :] += bias[o].</summary>
    private void AddChannelBias<T>(Tensor y, Tensor bias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = y.Shape[1], plane = y.Shape[2] * y.Shape[3];
        var ys = Data<T>(y);
        var bs = Data<T>(bias);
        CpuParallel.For(Threads, y.Shape[0] * channels, CpuParallel.Grain(plane), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                T b = bs[bias.Offset + (r % channels) * bias.Strides[0]];
                var row = ys.AsSpan(y.Offset + r * plane, plane);
                for (int j = 0; j < row.Length; j++) row[j] += b;
            }
        });
    }

    /// <summary>C = op(A)·op(B) (+ C when accumulating) through the packed GEMM of the element type.</summary>
    private unsafe void RunGemm<T>(bool ta, bool tb, int m, int n, int k, T* a, int lda, T* b, int ldb, bool accumulate, T* c, int ldc,
        int? threads = null, int groups = 1, long bGroupStride = 0, long cGroupStride = 0) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, 1f, (float*)a, lda, (float*)b, ldb, accumulate ? 1f : 0f, (float*)c, ldc, threads ?? Threads,
                groups, bGroupStride, cGroupStride);
        else
            Gemm.Dgemm(ta, tb, m, n, k, 1.0, (double*)a, lda, (double*)b, ldb, accumulate ? 1.0 : 0.0, (double*)c, ldc, threads ?? Threads,
                groups, bGroupStride, cGroupStride);
    }

    /// <summary>Scalar reference: the convolution sum written out directly.</summary>
    internal static void ReferenceConv2d(double[] x, int[] xShape, double[] w, int[] wShape, double[]? bias, Conv2dGeometry g, double[] y)
    {
        var s = ConvShape.Of(xShape, wShape, g);
        for (int n = 0; n < s.N; n++)
            for (int o = 0; o < s.O; o++)
                for (int oh = 0; oh < s.Ho; oh++)
                    for (int ow = 0; ow < s.Wo; ow++)
                    {
                        double sum = bias?[o] ?? 0;
                        for (int c = 0; c < s.C; c++)
                            for (int ki = 0; ki < s.Kh; ki++)
                                for (int kj = 0; kj < s.Kw; kj++)
                                {
                                    int ih = oh * g.StrideH - g.PadH + ki * g.DilationH, iw = ow * g.StrideW - g.PadW + kj * g.DilationW;
                                    if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                                    sum += x[((n * s.C + c) * s.H + ih) * s.W + iw] * w[((o * s.C + c) * s.Kh + ki) * s.Kw + kj];
                                }
                        y[((n * s.O + o) * s.Ho + oh) * s.Wo + ow] = sum;
                    }
    }
}
