using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Convolution as im2col slabs + the tiled GEMM, as the CPU backend: im2col of a channel slab for every image,
// its adjoint col2im written as a gather (each input element sums its own taps in a fixed order: no atomics),
// and the bias. col is [N][(c − c0)·kh·kw + ki·kw + kj][ho·wo].
internal sealed partial class IlgpuKernels
{
    /// <summary>Elements of im2col columns per slab (64M floats at most), as the CPU's ColumnBudget.</summary>
    private const int ColumnBudget = 1 << 24;

    internal readonly record struct ConvShape(int N, int C, int H, int W, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, int Dh, int Dw, int Ho, int Wo)
    {
        public static ConvShape Of(int[] x, int[] w, Conv2dGeometry g) =>
            new(x[0], x[1], x[2], x[3], w[2], w[3], g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilationH, g.DilationW, g.OutH(x[2], w[2]), g.OutW(x[3], w[3]));

        public int Kk => Kh * Kw;
        public int P => Ho * Wo;
        public int Plane => H * W;
        public int Ckk => C * Kk;
        public bool Pointwise => Kh == 1 && Kw == 1 && Sh == 1 && Sw == 1 && Ph == 0 && Pw == 0;

        /// <summary>Input channels per slab so that the columns of all images stay within the budget.</summary>
        public int ChannelSlab => (int)Math.Clamp(ColumnBudget / Math.Max(1L, (long)N * Kk * P), 1, C);
    }

    /// <summary>A column workspace from the caching allocator, viewed as T.</summary>
    private ArrayView<T> Columns<T>(ConvShape s, out ILGPU.Runtime.MemoryBuffer1D<byte, Stride1D.Dense> raw) where T : unmanaged
    {
        long count = (long)s.N * s.ChannelSlab * s.Kk * s.P;
        raw = device.Rent(count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        return IlgpuAccelerator.Typed<T>(raw, count);
    }

    private void Im2Col<T>(ConvShape s, int c0, int c1, Tensor x, ArrayView<T> col) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernel(Im2ColKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, ConvShape, int, int, ArrayView<T>, int, ArrayView<T>>(Im2ColKernel<T>));
        kernel(s.N * (c1 - c0) * s.Kk * s.P, s, c0, c1, View<T>(x), x.Offset, col);
    }

    private static void Im2ColKernel<T>(Index1D index, ConvShape g, int c0, int c1, ArrayView<T> x, int xOffset, ArrayView<T> col)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = index;
        int rows = (c1 - c0) * g.Kh * g.Kw, p = g.Ho * g.Wo;
        int pos = i % p, r = i / p % rows, img = i / (p * rows);
        int c = c0 + r / (g.Kh * g.Kw), ki = r % (g.Kh * g.Kw) / g.Kw, kj = r % g.Kw;
        int ih = pos / g.Wo * g.Sh - g.Ph + ki * g.Dh, iw = pos % g.Wo * g.Sw - g.Pw + kj * g.Dw;
        col[i] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[xOffset + ((img * g.C + c) * g.H + ih) * g.W + iw] : T.Zero;
    }

    private static void Col2ImKernel<T>(Index1D index, ConvShape g, int c0, int c1, ArrayView<T> col, ArrayView<T> dx, int dxOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = index;
        int plane = g.H * g.W, rows = (c1 - c0) * g.Kh * g.Kw, p = g.Ho * g.Wo;
        int iw = i % g.W, ih = i / g.W % g.H, cs = i / plane % (c1 - c0), img = i / (plane * (c1 - c0));
        int colc = (img * rows + cs * g.Kh * g.Kw) * p;
        T s = T.Zero;
        for (int ki = 0; ki < g.Kh; ki++)
        {
            int th = ih + g.Ph - ki * g.Dh;
            if (th < 0 || th % g.Sh != 0 || th / g.Sh >= g.Ho) continue;
            for (int kj = 0; kj < g.Kw; kj++)
            {
                int tw = iw + g.Pw - kj * g.Dw;
                if (tw < 0 || tw % g.Sw != 0 || tw / g.Sw >= g.Wo) continue;
                s += col[colc + (ki * g.Kw + kj) * p + th / g.Sh * g.Wo + tw / g.Sw];
            }
        }
        dx[dxOffset + (img * g.C + c0 + cs) * plane + ih * g.W + iw] = s;
    }

    /// <summary>y[n, o, :] += bias[o] for contiguous y [N, channels, plane].</summary>
    private static void ChannelBiasKernel<T>(Index1D i, int channels, int plane, ArrayView<T> y, int yOffset, ArrayView<T> bias, int bOffset, int bStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        y[yOffset + i] += bias[bOffset + i / plane % channels * bStride];
    }

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dGeometry g)
    {
        CheckDevice(x, w, bias, y);
        if (IsFloat(y)) Conv2d<float>(x, w, bias, y, g);
        else Conv2d<double>(x, w, bias, y, g);
    }

    private void Conv2d<T>(Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = ConvShape.Of(x.Shape, w.Shape, g);
        int o = w.Shape[0];
        if (s.N == 0 || s.P == 0) return;
        if (s.Pointwise)
            Gemm(s.N, new GemmArgs(o, s.P, s.C, w.Offset, s.Ckk, 1, 0, x.Offset, s.Plane, 1, s.C * s.Plane, y.Offset, s.P, o * s.P, 0),
                View<T>(w), View<T>(x), View<T>(y));
        else
        {
            var col = Columns<T>(s, out var raw);
            for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
            {
                int c1 = Math.Min(s.C, c0 + s.ChannelSlab), rows = (c1 - c0) * s.Kk;
                Im2Col(s, c0, c1, x, col);
                Gemm(s.N, new GemmArgs(o, s.P, rows, w.Offset + c0 * s.Kk, s.Ckk, 1, 0, 0, s.P, 1, rows * s.P, y.Offset, s.P, o * s.P, c0 > 0 ? 1 : 0),
                    View<T>(w), col, View<T>(y));
            }
            device.Return(raw);
        }
        if (bias != null)
            device.Kernel(ChannelBiasKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<T>, int, ArrayView<T>, int, int>(ChannelBiasKernel<T>))
                (y.Count, o, s.P, View<T>(y), y.Offset, View<T>(bias), bias.Offset, bias.Strides[0]);
    }

    public void Conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dGeometry g)
    {
        CheckDevice(dy, w, dx);
        if (IsFloat(dx)) Conv2dBackwardInput<float>(dy, w, dx, g);
        else Conv2dBackwardInput<double>(dy, w, dx, g);
    }

    private void Conv2dBackwardInput<T>(Tensor dy, Tensor w, Tensor dx, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = ConvShape.Of(dx.Shape, w.Shape, g);
        int o = w.Shape[0];
        if (s.N == 0 || s.Plane == 0) return;
        if (s.Pointwise)
        {
            // dx[n] = Wᵀ·dy[n]: A[c, o] = w[o·C + c].
            Gemm(s.N, new GemmArgs(s.C, s.P, o, w.Offset, 1, s.Ckk, 0, dy.Offset, s.P, 1, o * s.P, dx.Offset, s.Plane, s.C * s.Plane, 0),
                View<T>(w), View<T>(dy), View<T>(dx));
            return;
        }
        var col = Columns<T>(s, out var raw);
        var col2im = device.Kernel(Col2ImKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, ConvShape, int, int, ArrayView<T>, ArrayView<T>, int>(Col2ImKernel<T>));
        for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
        {
            int c1 = Math.Min(s.C, c0 + s.ChannelSlab), rows = (c1 - c0) * s.Kk;
            Gemm(s.N, new GemmArgs(rows, s.P, o, w.Offset + c0 * s.Kk, 1, s.Ckk, 0, dy.Offset, s.P, 1, o * s.P, 0, s.P, rows * s.P, 0),
                View<T>(w), View<T>(dy), col);
            col2im(s.N * (c1 - c0) * s.Plane, s, c0, c1, col, View<T>(dx), dx.Offset);
        }
        device.Return(raw);
    }

    public void Conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Conv2dGeometry g)
    {
        CheckDevice(x, dy, dw);
        if (IsFloat(dw)) Conv2dBackwardWeight<float>(x, dy, dw, g);
        else Conv2dBackwardWeight<double>(x, dy, dw, g);
    }

    private void Conv2dBackwardWeight<T>(Tensor x, Tensor dy, Tensor dw, Conv2dGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = ConvShape.Of(x.Shape, dw.Shape, g);
        int o = dw.Shape[0];
        if (s.N == 0 || s.P == 0)
        {
            Fill(dw, 0);
            return;
        }
        // Images are summed one GEMM at a time, in order (a batched GEMM cannot sum over its batch).
        if (s.Pointwise)
        {
            for (int n = 0; n < s.N; n++)
                Gemm(1, new GemmArgs(o, s.C, s.P, dy.Offset + n * o * s.P, s.P, 1, 0, x.Offset + n * s.C * s.Plane, 1, s.Plane, 0, dw.Offset, s.Ckk, 0, n > 0 ? 1 : 0),
                    View<T>(dy), View<T>(x), View<T>(dw));
            return;
        }
        var col = Columns<T>(s, out var raw);
        for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
        {
            int c1 = Math.Min(s.C, c0 + s.ChannelSlab), rows = (c1 - c0) * s.Kk;
            Im2Col(s, c0, c1, x, col);
            for (int n = 0; n < s.N; n++)
                Gemm(1, new GemmArgs(o, rows, s.P, dy.Offset + n * o * s.P, s.P, 1, 0, n * rows * s.P, 1, s.P, 0, dw.Offset + c0 * s.Kk, s.Ckk, 0, n > 0 ? 1 : 0),
                    View<T>(dy), col, View<T>(dw));
        }
        device.Return(raw);
    }
}
