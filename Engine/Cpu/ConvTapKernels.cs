using System.Numerics;

namespace IlgpuSeg.Engine;

// Convolution tap by tap, for layers where many taps read only padding (ASPP's 3×3 convolutions with dilation
// 12, 24, 36 on a 32×32 map: at dilation 36 only the centre tap ever touches the image). The output rows are
// cut into bands over which the set of live kernel rows is constant; within a band each live tap (ki, kj) is one
// GEMM, W_t [O, C] · shifted input [C, band], accumulated into the output band. The weights are first permuted
// to tap-major [O, kh, kw, C] so every W_t is a plain strided matrix. Bands, taps and channel chunks run in a
// fixed order that depends only on the shapes, so results are the same for any thread count.
internal sealed partial class CpuKernels
{
    /// <summary>
    /// Bands of output rows [Oh0, Oh1) whose live kernel rows are [KiLo, KiHi), and the kernel columns [KjLo, KjHi)
    /// that read the image for some output column. Null when the dead taps would save too little to pay for
    /// per-tap GEMMs (shallower K) over the single im2col GEMM.
    /// </summary>
    internal sealed record ConvBands(List<(int Oh0, int Oh1, int KiLo, int KiHi)> Rows, int KjLo, int KjHi)
    {
        // Use the tap path when at most this share of the taps × output rows is live.
        private const double MaxLiveShare = 0.8;

        public int MaxRows => Rows.Max(r => r.Oh1 - r.Oh0);

        public static ConvBands? Of(ConvShape s)
        {
            if (s.Kk == 1) return null;
            var g = s.G;
            int kjLo = s.Kw, kjHi = 0;
            for (int kj = 0; kj < s.Kw; kj++)
            {
                var (lo, hi) = InsideColumns(-g.PadW + kj * g.DilationW, g.StrideW, s.W, s.Wo);
                if (hi > lo) { kjLo = Math.Min(kjLo, kj); kjHi = kj + 1; }
            }
            var rows = new List<(int, int, int, int)>();
            long live = 0;
            for (int oh = 0; oh < s.Ho;)
            {
                var (kiLo, kiHi) = LiveKernelRows(oh, s);
                int end = oh + 1;
                while (end < s.Ho && LiveKernelRows(end, s) == (kiLo, kiHi)) end++;
                rows.Add((oh, end, kiLo, kiHi));
                live += (long)(end - oh) * Math.Max(0, kiHi - kiLo) * Math.Max(0, kjHi - kjLo);
                oh = end;
            }
            return live <= MaxLiveShare * s.Ho * s.Kk ? new ConvBands(rows, kjLo, kjHi) : null;
        }

        /// <summary>The kernel rows [lo, hi) whose input row lies inside the image for output row oh.</summary>
        private static (int Lo, int Hi) LiveKernelRows(int oh, ConvShape s)
        {
            var g = s.G;
            int lo = s.Kh, hi = 0;
            for (int ki = 0; ki < s.Kh; ki++)
            {
                int ih = oh * g.StrideH - g.PadH + ki * g.DilationH;
                if ((uint)ih < (uint)s.H) { lo = Math.Min(lo, ki); hi = ki + 1; }
            }
            return hi > lo ? (lo, hi) : (0, 0);
        }

        /// <summary>Every live tap of every band, in the fixed order the kernels accumulate them.</summary>
        public IEnumerable<(int Oh0, int Oh1, int Ki, int Kj)> Taps()
        {
            foreach (var (oh0, oh1, kiLo, kiHi) in Rows)
                for (int ki = kiLo; ki < kiHi; ki++)
                    for (int kj = KjLo; kj < KjHi; kj++) yield return (oh0, oh1, ki, kj);
        }
    }

    /// <summary>Channels per chunk so a band's shifted-input block stays under ColumnBudget.</summary>
    private static int TapChunk(ConvShape s, ConvBands bands) => Math.Clamp(ColumnBudget / Math.Max(1, bands.MaxRows * s.Wo), 1, s.C);

    private unsafe void TapConv2d<T>(Tensor x, Tensor w, Tensor y, ConvShape s, ConvBands bands) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunk = TapChunk(s, bands), weights = s.O * s.Ckk;
        var work = Workspace<T>.Get(weights + chunk * bands.MaxRows * s.Wo);
        fixed (T* px0 = Data<T>(x), pw0 = Data<T>(w), py0 = Data<T>(y), pwork = work)
        {
            T* px = px0 + x.Offset, pw = pw0 + w.Offset, py = py0 + y.Offset, wt = pwork, col = pwork + weights;
            ToTapMajor(pw, wt, s);
            new Span<T>(py, s.N * s.O * s.P).Clear();
            for (int n = 0; n < s.N; n++)
            {
                T* xn = px + (long)n * s.C * s.Plane, yn = py + (long)n * s.O * s.P;
                foreach (var (oh0, oh1, ki, kj) in bands.Taps())
                {
                    int band = (oh1 - oh0) * s.Wo, tap = ki * s.Kw + kj;
                    for (int c0 = 0; c0 < s.C; c0 += chunk)
                    {
                        int c1 = Math.Min(s.C, c0 + chunk);
                        ShiftedBlock(xn, c0, c1, ki, kj, oh0, oh1, s, col);
                        RunGemm(false, false, s.O, band, c1 - c0, wt + tap * s.C + c0, s.Ckk, col, band, true, yn + oh0 * s.Wo, s.P);
                    }
                }
            }
        }
    }

    private unsafe void TapConv2dBackwardInput<T>(Tensor dy, Tensor w, Tensor dx, ConvShape s, ConvBands bands) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunk = TapChunk(s, bands), weights = s.O * s.Ckk;
        var work = Workspace<T>.Get(weights + chunk * bands.MaxRows * s.Wo);
        fixed (T* pdy0 = Data<T>(dy), pw0 = Data<T>(w), pdx0 = Data<T>(dx), pwork = work)
        {
            T* pdy = pdy0 + dy.Offset, pw = pw0 + w.Offset, pdx = pdx0 + dx.Offset, wt = pwork, col = pwork + weights;
            ToTapMajor(pw, wt, s);
            new Span<T>(pdx, s.N * s.C * s.Plane).Clear();
            for (int n = 0; n < s.N; n++)
            {
                T* dyn = pdy + (long)n * s.O * s.P, dxn = pdx + (long)n * s.C * s.Plane;
                foreach (var (oh0, oh1, ki, kj) in bands.Taps())
                {
                    int band = (oh1 - oh0) * s.Wo, tap = ki * s.Kw + kj;
                    for (int c0 = 0; c0 < s.C; c0 += chunk)
                    {
                        // d(shifted input)[c, band] = W_tᵀ · dy[:, band], then added back where the tap read.
                        int c1 = Math.Min(s.C, c0 + chunk);
                        RunGemm(true, false, c1 - c0, band, s.O, wt + tap * s.C + c0, s.Ckk, dyn + oh0 * s.Wo, s.P, false, col, band);
                        AddShiftedBlock(col, c0, c1, ki, kj, oh0, oh1, s, dxn);
                    }
                }
            }
        }
    }

    private unsafe void TapConv2dBackwardWeight<T>(Tensor x, Tensor dy, Tensor dw, ConvShape s, ConvBands bands) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunk = TapChunk(s, bands), weights = s.O * s.Ckk;
        var work = Workspace<T>.Get(weights + chunk * bands.MaxRows * s.Wo);
        fixed (T* px0 = Data<T>(x), pdy0 = Data<T>(dy), pdw0 = Data<T>(dw), pwork = work)
        {
            T* px = px0 + x.Offset, pdy = pdy0 + dy.Offset, pdw = pdw0 + dw.Offset, dwt = pwork, col = pwork + weights;
            new Span<T>(dwt, weights).Clear();
            for (int n = 0; n < s.N; n++)
            {
                T* xn = px + (long)n * s.C * s.Plane, dyn = pdy + (long)n * s.O * s.P;
                foreach (var (oh0, oh1, ki, kj) in bands.Taps())
                {
                    int band = (oh1 - oh0) * s.Wo, tap = ki * s.Kw + kj;
                    for (int c0 = 0; c0 < s.C; c0 += chunk)
                    {
                        // dW_t[:, chunk] += dy[:, band] · shifted input[chunk, band]ᵀ; dead taps stay 0.
                        int c1 = Math.Min(s.C, c0 + chunk);
                        ShiftedBlock(xn, c0, c1, ki, kj, oh0, oh1, s, col);
                        RunGemm(false, true, s.O, c1 - c0, band, dyn + oh0 * s.Wo, s.P, col, band, true, dwt + tap * s.C + c0, s.Ckk);
                    }
                }
            }
            FromTapMajor(dwt, pdw, s);
        }
    }

    /// <summary>wt[o, (ki·kw + kj)·C + c] = w[o, c, ki, kj].</summary>
    private unsafe void ToTapMajor<T>(T* w, T* wt, ConvShape s) where T : unmanaged
    {
        nint src = (nint)w, dst = (nint)wt;
        CpuParallel.For(Threads, s.O, CpuParallel.Grain(s.Ckk), (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
            {
                T* from = (T*)src + (long)o * s.Ckk, to = (T*)dst + (long)o * s.Ckk;
                for (int c = 0; c < s.C; c++)
                    for (int k = 0; k < s.Kk; k++) to[k * s.C + c] = from[c * s.Kk + k];
            }
        });
    }

    /// <summary>w[o, c, ki, kj] = wt[o, (ki·kw + kj)·C + c].</summary>
    private unsafe void FromTapMajor<T>(T* wt, T* w, ConvShape s) where T : unmanaged
    {
        nint src = (nint)wt, dst = (nint)w;
        CpuParallel.For(Threads, s.O, CpuParallel.Grain(s.Ckk), (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
            {
                T* from = (T*)src + (long)o * s.Ckk, to = (T*)dst + (long)o * s.Ckk;
                for (int c = 0; c < s.C; c++)
                    for (int k = 0; k < s.Kk; k++) to[c * s.Kk + k] = from[k * s.C + c];
            }
        });
    }

    /// <summary>col[c − c0, :] = channel c as tap (ki, kj) reads it for output rows oh0..oh1.</summary>
    private unsafe void ShiftedBlock<T>(T* xn, int c0, int c1, int ki, int kj, int oh0, int oh1, ConvShape s, T* col) where T : unmanaged
    {
        nint xBase = (nint)xn, colBase = (nint)col;
        int band = (oh1 - oh0) * s.Wo;
        CpuParallel.For(Threads, c1 - c0, CpuParallel.Grain(band), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                ShiftedRows((T*)xBase + (long)(c0 + i) * s.Plane, ki, kj, oh0, oh1, s, (T*)colBase + (long)i * band);
        });
    }

    /// <summary>The adjoint of <see cref="ShiftedBlock"/>: adds col's rows onto channels c0..c1 of dxn; one worker per channel.</summary>
    private unsafe void AddShiftedBlock<T>(T* col, int c0, int c1, int ki, int kj, int oh0, int oh1, ConvShape s, T* dxn) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint colBase = (nint)col, dxBase = (nint)dxn;
        int band = (oh1 - oh0) * s.Wo;
        CpuParallel.For(Threads, c1 - c0, CpuParallel.Grain(band), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                AddShiftedRows((T*)colBase + (long)i * band, ki, kj, oh0, oh1, s, (T*)dxBase + (long)(c0 + i) * s.Plane);
        });
    }
}
