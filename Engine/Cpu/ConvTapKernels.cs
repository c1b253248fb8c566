using System.Numerics;
using System.Numerics.Tensors;

namespace IlgpuSeg.Engine;

// Convolution tap by tap, for layers where many taps read only padding (ASPP's 3×3 convolutions with dilation
// 12, 24, 36 on a 32×32 map: at dilation 36 only the centre tap ever touches the image). Each live tap (ki, kj)
// reads the image only for a rectangle of output positions; over that rectangle the tap is one GEMM,
// W_t [O, C] · shifted input [C, rectangle], added into the output. The weights are first permuted to tap-major
// [O, kh, kw, C] so every W_t is a plain strided matrix. A tap with no horizontal shift over full rows (the centre
// column at stride 1) reads the input in place, with no copy. Taps and channel chunks run in a fixed order that
// depends only on the shapes, so results are the same for any thread count.
internal sealed partial class CpuKernels
{
    /// <summary>
    /// A live tap (Ki, Kj) and the output rectangle [Oh0, Oh1) × [Ow0, Ow1) where it reads the image. InPlace: the
    /// rectangle is whole rows and the tap reads input row ih at the same columns (stride 1, no horizontal shift),
    /// so its shifted input is the input plane itself from row Ih0 on.
    /// </summary>
    internal readonly record struct ConvTap(int Ki, int Kj, int Oh0, int Oh1, int Ow0, int Ow1, bool InPlace, int Ih0)
    {
        public int Positions => (Oh1 - Oh0) * (Ow1 - Ow0);
    }

    /// <summary>The live taps of a convolution, or null when they would save too little to pay for per-tap GEMMs (shallower K) over im2col.</summary>
    internal static ConvTap[]? LiveTaps(ConvShape s)
    {
        // Use the tap path when at most this share of taps × output positions reads the image.
        const double MaxLiveShare = 0.8;
        if (s.Kk == 1) return null;
        var g = s.G;
        var taps = new List<ConvTap>();
        long live = 0;
        for (int ki = 0; ki < s.Kh; ki++)
        {
            int ih0 = -g.PadH + ki * g.DilationH;
            var (oh0, oh1) = InsideColumns(ih0, g.StrideH, s.H, s.Ho);
            for (int kj = 0; kj < s.Kw; kj++)
            {
                int iw0 = -g.PadW + kj * g.DilationW;
                var (ow0, ow1) = InsideColumns(iw0, g.StrideW, s.W, s.Wo);
                if (oh1 <= oh0 || ow1 <= ow0) continue;
                bool inPlace = ow0 == 0 && ow1 == s.Wo && iw0 == 0 && s.W == s.Wo && g.StrideW == 1 && g.StrideH == 1;
                var tap = new ConvTap(ki, kj, oh0, oh1, ow0, ow1, inPlace, ih0 + oh0 * g.StrideH);
                taps.Add(tap);
                live += tap.Positions;
            }
        }
        // No live tap at all (every tap reads padding only) is left to im2col, which handles it without special cases.
        return taps.Count > 0 && live <= MaxLiveShare * s.Kk * s.P ? taps.ToArray() : null;
    }

    /// <summary>Channels per chunk so a tap's shifted-input block stays under ColumnBudget.</summary>
    private static int TapChunk(ConvShape s, ConvTap[] taps) => Math.Clamp(ColumnBudget / taps.Max(t => t.Positions), 1, s.C);

    /// <summary>Workspace: tap-major weights [O, Ckk], a shifted-input block [chunk, positions] and an output-side block [O, positions].</summary>
    private Span<T> TapWorkspace<T>(ConvShape s, ConvTap[] taps, int chunk) where T : unmanaged =>
        Workspace<T>.Get(s.O * s.Ckk + (chunk + s.O) * taps.Max(t => t.Positions), Accelerator);

    private unsafe void TapConv2d<T>(Tensor x, Tensor w, Tensor y, ConvShape s, ConvTap[] taps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunk = TapChunk(s, taps), positions = taps.Max(t => t.Positions);
        var work = TapWorkspace<T>(s, taps, chunk);
        fixed (T* px0 = Data<T>(x), pw0 = Data<T>(w), py0 = Data<T>(y), pwork = work)
        {
            T* px = px0 + x.Offset, pw = pw0 + w.Offset, py = py0 + y.Offset;
            T* wt = pwork, col = wt + s.O * s.Ckk, rect = col + chunk * positions;
            ToTapMajor(pw, wt, s, taps);
            new Span<T>(py, s.N * s.O * s.P).Clear();
            for (int n = 0; n < s.N; n++)
            {
                T* xn = px + (long)n * s.C * s.Plane, yn = py + (long)n * s.O * s.P;
                foreach (var tap in taps)
                {
                    int np = tap.Positions;
                    T* wTap = wt + (tap.Ki * s.Kw + tap.Kj) * s.C;
                    bool wholeRows = tap.Ow0 == 0 && tap.Ow1 == s.Wo;
                    for (int c0 = 0; c0 < s.C; c0 += chunk)
                    {
                        int c1 = Math.Min(s.C, c0 + chunk);
                        T* b = tap.InPlace ? xn + (long)c0 * s.Plane + tap.Ih0 * s.W : ShiftedRect(xn, c0, c1, tap, s, col);
                        int ldb = tap.InPlace ? s.Plane : np;
                        if (wholeRows) RunGemm(false, false, s.O, np, c1 - c0, wTap + c0, s.Ckk, b, ldb, true, yn + tap.Oh0 * s.Wo, s.P);
                        else RunGemm(false, false, s.O, np, c1 - c0, wTap + c0, s.Ckk, b, ldb, c0 > 0, rect, np);
                    }
                    if (!wholeRows) AddRect(rect, s.O, tap, s, yn, s.P);
                }
            }
        }
    }

    private unsafe void TapConv2dBackwardInput<T>(Tensor dy, Tensor w, Tensor dx, ConvShape s, ConvTap[] taps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunk = TapChunk(s, taps), positions = taps.Max(t => t.Positions);
        var work = TapWorkspace<T>(s, taps, chunk);
        fixed (T* pdy0 = Data<T>(dy), pw0 = Data<T>(w), pdx0 = Data<T>(dx), pwork = work)
        {
            T* pdy = pdy0 + dy.Offset, pw = pw0 + w.Offset, pdx = pdx0 + dx.Offset;
            T* wt = pwork, col = wt + s.O * s.Ckk, rect = col + chunk * positions;
            ToTapMajor(pw, wt, s, taps);
            new Span<T>(pdx, s.N * s.C * s.Plane).Clear();
            for (int n = 0; n < s.N; n++)
            {
                T* dyn = pdy + (long)n * s.O * s.P, dxn = pdx + (long)n * s.C * s.Plane;
                foreach (var tap in taps)
                {
                    int np = tap.Positions;
                    T* wTap = wt + (tap.Ki * s.Kw + tap.Kj) * s.C;
                    // dy over the tap's rectangle: in place when it is whole rows, else gathered.
                    bool wholeRows = tap.Ow0 == 0 && tap.Ow1 == s.Wo;
                    T* d = wholeRows ? dyn + tap.Oh0 * s.Wo : GatherRect(dyn, s.O, tap, s, s.P, rect);
                    int ldd = wholeRows ? s.P : np;
                    for (int c0 = 0; c0 < s.C; c0 += chunk)
                    {
                        // d(shifted input)[chunk, rectangle] = W_tᵀ · dy[:, rectangle], then added back where the tap read.
                        int c1 = Math.Min(s.C, c0 + chunk);
                        if (tap.InPlace)
                            RunGemm(true, false, c1 - c0, np, s.O, wTap + c0, s.Ckk, d, ldd, true, dxn + (long)c0 * s.Plane + tap.Ih0 * s.W, s.Plane);
                        else
                        {
                            RunGemm(true, false, c1 - c0, np, s.O, wTap + c0, s.Ckk, d, ldd, false, col, np);
                            AddShiftedRect(col, c0, c1, tap, s, dxn);
                        }
                    }
                }
            }
        }
    }

    private unsafe void TapConv2dBackwardWeight<T>(Tensor x, Tensor dy, Tensor dw, ConvShape s, ConvTap[] taps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunk = TapChunk(s, taps), positions = taps.Max(t => t.Positions);
        var work = TapWorkspace<T>(s, taps, chunk);
        fixed (T* px0 = Data<T>(x), pdy0 = Data<T>(dy), pdw0 = Data<T>(dw), pwork = work)
        {
            T* px = px0 + x.Offset, pdy = pdy0 + dy.Offset, pdw = pdw0 + dw.Offset;
            T* dwt = pwork, col = dwt + s.O * s.Ckk, rect = col + chunk * positions;
            new Span<T>(dwt, s.O * s.Ckk).Clear();
            for (int n = 0; n < s.N; n++)
            {
                T* xn = px + (long)n * s.C * s.Plane, dyn = pdy + (long)n * s.O * s.P;
                foreach (var tap in taps)
                {
                    int np = tap.Positions;
                    bool wholeRows = tap.Ow0 == 0 && tap.Ow1 == s.Wo;
                    T* d = wholeRows ? dyn + tap.Oh0 * s.Wo : GatherRect(dyn, s.O, tap, s, s.P, rect);
                    int ldd = wholeRows ? s.P : np;
                    for (int c0 = 0; c0 < s.C; c0 += chunk)
                    {
                        // dW_t[:, chunk] += dy[:, rectangle] · shifted input[chunk, rectangle]ᵀ; dead taps stay 0.
                        int c1 = Math.Min(s.C, c0 + chunk);
                        T* b = tap.InPlace ? xn + (long)c0 * s.Plane + tap.Ih0 * s.W : ShiftedRect(xn, c0, c1, tap, s, col);
                        int ldb = tap.InPlace ? s.Plane : np;
                        RunGemm(false, true, s.O, c1 - c0, np, d, ldd, b, ldb, true, dwt + (tap.Ki * s.Kw + tap.Kj) * s.C + c0, s.Ckk);
                    }
                }
            }
            FromTapMajor(dwt, pdw, s);
        }
    }

    /// <summary>wt[o, (ki·kw + kj)·C + c] = w[o, c, ki, kj] for the live taps (the others are never read).</summary>
    private unsafe void ToTapMajor<T>(T* w, T* wt, ConvShape s, ConvTap[] taps) where T : unmanaged
    {
        nint src = (nint)w, dst = (nint)wt;
        var live = taps.Select(t => t.Ki * s.Kw + t.Kj).ToArray();
        CpuParallel.For(Threads, s.O, CpuParallel.Grain(s.Ckk), (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
            {
                T* from = (T*)src + (long)o * s.Ckk, to = (T*)dst + (long)o * s.Ckk;
                foreach (int k in live)
                    for (int c = 0; c < s.C; c++) to[k * s.C + c] = from[c * s.Kk + k];
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

    /// <summary>col[c − c0, r·cols + q] = what the tap reads from channel c for output (Oh0 + r, Ow0 + q); returns col.</summary>
    private unsafe T* ShiftedRect<T>(T* xn, int c0, int c1, ConvTap tap, ConvShape s, T* col) where T : unmanaged
    {
        var g = s.G;
        nint xBase = (nint)xn, colBase = (nint)col;
        int cols = tap.Ow1 - tap.Ow0, np = tap.Positions;
        int iw0 = -g.PadW + tap.Kj * g.DilationW + tap.Ow0 * g.StrideW;
        CpuParallel.For(Threads, c1 - c0, CpuParallel.Grain(np), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                T* plane = (T*)xBase + (long)(c0 + i) * s.Plane;
                T* dst = (T*)colBase + (long)i * np;
                for (int oh = tap.Oh0; oh < tap.Oh1; oh++, dst += cols)
                {
                    T* src = plane + (tap.Ih0 + (oh - tap.Oh0) * g.StrideH) * s.W + iw0;
                    if (g.StrideW == 1) new ReadOnlySpan<T>(src, cols).CopyTo(new Span<T>(dst, cols));
                    else for (int q = 0; q < cols; q++) dst[q] = src[q * g.StrideW];
                }
            }
        });
        return col;
    }

    /// <summary>The adjoint of <see cref="ShiftedRect"/>: adds col's rows onto channels c0..c1 of dxn where the tap read; one worker per channel.</summary>
    private unsafe void AddShiftedRect<T>(T* col, int c0, int c1, ConvTap tap, ConvShape s, T* dxn) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = s.G;
        nint colBase = (nint)col, dxBase = (nint)dxn;
        int cols = tap.Ow1 - tap.Ow0, np = tap.Positions;
        int iw0 = -g.PadW + tap.Kj * g.DilationW + tap.Ow0 * g.StrideW;
        CpuParallel.For(Threads, c1 - c0, CpuParallel.Grain(np), (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                T* plane = (T*)dxBase + (long)(c0 + i) * s.Plane;
                T* src = (T*)colBase + (long)i * np;
                for (int oh = tap.Oh0; oh < tap.Oh1; oh++, src += cols)
                {
                    T* dst = plane + (tap.Ih0 + (oh - tap.Oh0) * g.StrideH) * s.W + iw0;
                    if (g.StrideW == 1)
                    {
                        var target = new Span<T>(dst, cols);
                        TensorPrimitives.Add(target, new ReadOnlySpan<T>(src, cols), target);
                    }
                    else for (int q = 0; q < cols; q++) dst[q * g.StrideW] += src[q];
                }
            }
        });
    }

    /// <summary>rect[r, :] = the tap's output rectangle of row r of a [rows, P] map (ld apart); returns rect.</summary>
    private unsafe T* GatherRect<T>(T* map, int rows, ConvTap tap, ConvShape s, int ld, T* rect) where T : unmanaged
    {
        nint mapBase = (nint)map, rectBase = (nint)rect;
        int cols = tap.Ow1 - tap.Ow0, np = tap.Positions;
        CpuParallel.For(Threads, rows, CpuParallel.Grain(np), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                for (int oh = tap.Oh0; oh < tap.Oh1; oh++)
                    new ReadOnlySpan<T>((T*)mapBase + (long)r * ld + oh * s.Wo + tap.Ow0, cols)
                        .CopyTo(new Span<T>((T*)rectBase + (long)r * np + (oh - tap.Oh0) * cols, cols));
        });
        return rect;
    }

    /// <summary>The adjoint of <see cref="GatherRect"/>: map[r, rectangle] += rect[r, :].</summary>
    private unsafe void AddRect<T>(T* rect, int rows, ConvTap tap, ConvShape s, T* map, int ld) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint mapBase = (nint)map, rectBase = (nint)rect;
        int cols = tap.Ow1 - tap.Ow0, np = tap.Positions;
        CpuParallel.For(Threads, rows, CpuParallel.Grain(np), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                for (int oh = tap.Oh0; oh < tap.Oh1; oh++)
                {
                    var target = new Span<T>((T*)mapBase + (long)r * ld + oh * s.Wo + tap.Ow0, cols);
                    TensorPrimitives.Add(target, new ReadOnlySpan<T>((T*)rectBase + (long)r * np + (oh - tap.Oh0) * cols, cols), target);
                }
        });
    }
}
